"""The web UI end to end in headless Chromium (Debian's, driven by Playwright) against a real server
on 127.0.0.1. Skipped where Chromium or Playwright is missing, except in CI (scripts/setup.sh installs both)."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
import uvicorn

from tests.api.conftest import png
from xmodal.api import create_app
from xmodal.search import Searcher
from xmodal.store import Store

CHROMIUM = os.environ.get("XMODAL_CHROMIUM", "/usr/bin/chromium")
# Chromium as root, with no network beyond loopback: no sandbox, no background connections.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail(f"CI needs Playwright and {CHROMIUM} for the browser test: run scripts/setup.sh")
        pytest.skip(f"needs the playwright package and {CHROMIUM} (scripts/setup.sh installs them)")
    return sync_playwright


@pytest.fixture
def server_url(serve, settings, encoder) -> Iterator[str]:
    serve()  # indexes the corpus
    app = create_app(settings.with_overrides(max_upload_bytes=200_000), Searcher(Store.open(settings.store), encoder))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(server_url):
    sync_playwright = _playwright()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(15_000)
        page.goto(server_url)
        yield page
        browser.close()


def card_names(page) -> list[str]:
    return page.locator("#results .card .name").all_inner_texts()


def test_type_a_query_upload_a_file_and_ask_for_more_like_this(page, tmp_path: Path) -> None:
    page.get_by_label("Search text").fill("red")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results .card")
    assert card_names(page)[0] in ("red.png", "red.txt")
    assert "result" in page.locator("#status").inner_text()
    assert page.locator("#results .card.image img").first.evaluate("img => img.complete && img.naturalWidth > 0")

    page.get_by_label("Texts").uncheck()
    page.wait_for_function("() => ![...document.querySelectorAll('#results .badge')].some(b => b.textContent === 'text')")

    query = tmp_path / "query.png"
    query.write_bytes(png((0, 240, 0)))
    page.set_input_files("#file", str(query))
    page.wait_for_function("() => document.querySelector('#results .card .name')?.textContent === 'green.jpg'")
    assert page.locator("#file-chip").is_visible() and "query.png" in page.locator("#file-name").inner_text()
    screenshot = tmp_path / "ui.png"
    page.screenshot(path=str(screenshot), full_page=True)
    if os.environ.get("XMODAL_SCREENSHOT_DIR"):
        shutil.copy(screenshot, Path(os.environ["XMODAL_SCREENSHOT_DIR"]) / "ui.png")

    page.get_by_role("button", name="More like green.jpg").click()
    page.wait_for_function("() => !document.getElementById('like-chip').hidden")
    page.wait_for_function("() => !['Searching…', 'Loading more…'].includes(document.getElementById('status').textContent)")
    assert page.locator("#like-name").inner_text() == "green.jpg"
    assert "green.jpg" not in card_names(page) and card_names(page)
    assert page.evaluate("document.activeElement.id") == "results-heading"


def test_upload_errors_are_shown_and_controls_are_reachable_by_keyboard(page, tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    page.set_input_files("#file", str(broken))
    alert = page.get_by_role("alert")
    alert.wait_for(state="visible")
    assert "broken.png" in alert.inner_text() and "image" in alert.inner_text()

    notes = tmp_path / "notes.pdf"
    notes.write_bytes(b"%PDF-1.4")
    page.set_input_files("#file", str(notes))
    page.wait_for_function("() => document.getElementById('error').textContent.includes('notes.pdf')")
    assert "Choose an image" in alert.inner_text()

    page.get_by_label("Search text").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "file"
