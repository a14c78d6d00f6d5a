"""The web UI end to end in headless Chromium (Debian's, driven by Playwright) against a real server
on 127.0.0.1, with every request to any other host blocked and reported: the UI and the API docs
must work fully offline. Skipped where Chromium or Playwright is missing, except in CI
(scripts/setup.sh installs both).

Screenshots at 1200x900 and 360 px wide go to $XMODAL_SCREENSHOT_DIR, or a pytest temporary folder;
the folder is printed at the end of the module."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import uvicorn

from tests.api.conftest import MANIFEST, index_into, png
from tests.conftest import solid, tone
from tests.fakes import FakeEncoder
from xmodal.api import create_app
from xmodal.config import Settings
from xmodal.engine import Engine
from xmodal.store import Store

CHROMIUM = os.environ.get("XMODAL_CHROMIUM", "/usr/bin/chromium")
# Chromium as root, with no network beyond loopback: no sandbox, no background connections.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
DESKTOP = {"width": 1200, "height": 900}
PHONE = {"width": 360, "height": 740}
LONG_TEXT = (
    " ".join(f"Sentence {number} of a long note about a blue boat." for number in range(40))
    + " The last words: anchor down."
)


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


def _serve(settings: Settings, encoder: FakeEncoder) -> Iterator[str]:
    app = create_app(settings, Engine.open(settings, encoder=encoder))
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


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Coloured images, two 1 s tones and a 5 s one, short and long texts, and a manifest of texts."""
    root = tmp_path_factory.mktemp("browser-corpus")
    for folder in ("img", "snd", "txt"):
        (root / folder).mkdir()
    solid(root / "img" / "red.png", (250, 10, 10), (320, 240))
    solid(root / "img" / "green.jpg", (10, 240, 10), (240, 320))
    solid(root / "img" / "blue.bmp", (10, 10, 250))
    tone(root / "snd" / "low.wav", 220)
    tone(root / "snd" / "high.flac", 3000)
    tone(root / "snd" / "long-low.wav", 200, seconds=5.0)
    (root / "txt" / "red.txt").write_text("A red thing.")
    (root / "txt" / "low.md").write_text("# Low\nA low hum.")
    (root / "txt" / "long-note.txt").write_text(LONG_TEXT)
    (root / "notes.jsonl").write_text("\n".join(json.dumps(entry) for entry in MANIFEST) + "\n")
    return root


@pytest.fixture(scope="module")
def server_url(corpus: Path, tmp_path_factory) -> Iterator[str]:
    encoder = FakeEncoder()
    settings = Settings(store=tmp_path_factory.mktemp("browser") / "store", batch_size=4)
    index_into(
        settings.store, [corpus / "img", corpus / "snd", corpus / "txt", corpus / "notes.jsonl"], encoder, settings
    )
    # Sounds are decoded up to 2 s for waveforms: the 5 s one shows its length and 2 s of peaks.
    yield from _serve(settings.with_overrides(max_upload_bytes=200_000, max_audio_seconds=2.0), encoder)


@pytest.fixture(scope="module")
def empty_server_url(tmp_path_factory) -> Iterator[str]:
    encoder = FakeEncoder()
    settings = Settings(store=tmp_path_factory.mktemp("browser-empty") / "store")
    Store.open(settings.store, encoder.info.identity(), writable=True).close()
    yield from _serve(settings, encoder)


@pytest.fixture(scope="module")
def screenshots(request, tmp_path_factory) -> Iterator[Path]:
    folder = Path(os.environ.get("XMODAL_SCREENSHOT_DIR") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    taken = sorted(path.name for path in folder.glob("*.png"))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and taken:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nbrowser screenshots ({len(taken)}) in {folder}: {', '.join(taken)}")


@pytest.fixture(scope="module")
def browser():
    sync_playwright = _playwright()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Pages:
    """New pages in fresh browser contexts, each blocking every host but loopback and logging script errors."""

    def __init__(self, browser) -> None:
        self.browser = browser
        self.contexts: list = []
        self.blocked: list[str] = []
        self.errors: list[str] = []

    def new(self, url: str, viewport: dict = DESKTOP):
        context = self.browser.new_context(viewport=viewport)
        context.route("**/*", self._only_loopback)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.goto(url)
        return page

    def _only_loopback(self, route) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser) -> Iterator[Pages]:
    opened = Pages(browser)
    yield opened
    opened.close()
    assert not opened.blocked, f"the page asked hosts other than this server: {opened.blocked}"
    assert not opened.errors, f"script errors: {opened.errors}"


@pytest.fixture
def page(pages: Pages, server_url: str):
    page = pages.new(server_url)
    page.wait_for_selector("#store-info[data-loaded]")  # the page has asked /health: it has started
    return page


def shoot(page, folder: Path, name: str) -> Path:
    """The whole page, or the viewport while a dialog is open (a modal's backdrop covers only that)."""
    path = folder / f"{name}-{page.viewport_size['width']}.png"
    page.screenshot(path=str(path), full_page=not page.evaluate("Boolean(document.getElementById('preview')?.open)"))
    return path


def search(page, text: str) -> None:
    page.get_by_label("Search text").fill(text)
    page.keyboard.press("Enter")
    settled(page)


def settled(page) -> None:
    page.wait_for_function(
        "() => !['Searching…', 'Loading more…'].includes(document.getElementById('status').textContent)"
    )


def first_search_done(page):
    """A page opened on a URL with a query: wait for its search to finish."""
    page.wait_for_selector("#status[data-done]", state="attached")
    settled(page)
    return page


def card_names(page, kind: str | None = None) -> list[str]:
    scope = f"#results .card.{kind}" if kind else "#results .card"
    return page.locator(f"{scope} .name").all_inner_texts()


def card_named(page, name: str):
    return page.locator("#results .card").filter(has=page.locator(".name").get_by_text(name, exact=True))


def url_query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_api_docs_render_with_the_network_blocked(pages: Pages, server_url: str, screenshots: Path) -> None:
    docs = pages.new(f"{server_url}/docs")
    docs.wait_for_selector(".opblock-summary")
    paths = docs.locator(".opblock-summary-path").all_inner_texts()
    assert "/search" in paths and "/items/{item_id}/waveform" in paths and len(paths) >= 10
    shoot(docs, screenshots, "docs")
    redoc = pages.new(f"{server_url}/redoc")
    redoc.wait_for_selector("[role=menuitem]")
    assert redoc.get_by_text("A sound item's duration and peak levels").count() >= 1


def test_results_in_sections_with_counts_weak_matches_and_labelled_scores(
    page, pages: Pages, server_url: str, screenshots: Path
) -> None:
    assert page.evaluate("document.querySelector('link[rel=icon]').href").endswith("/static/favicon.svg")
    assert page.locator("#store-info").inner_text().startswith("3 images, 3 sounds, 6 texts")
    search(page, "red")
    headings = page.locator(".section-heading").all_inner_texts()
    assert [re.sub(r" \(\d+\)", "", heading) for heading in headings] == ["Images", "Sounds", "Texts"]
    for kind, heading in zip(("image", "audio", "text"), headings):
        assert heading.endswith(f"({len(card_names(page, kind))})")
    total = len(card_names(page))
    assert page.locator("#status").inner_text().startswith(f"{total} results: 3 images, 3 sounds, ")
    assert card_names(page, "image")[0] == "red.png" and card_names(page, "text")[0] in ("red.txt", "doc-ann")
    assert page.locator("#results .score").first.inner_text().startswith("similarity ")
    # The red picture is a match; green and blue are weak; the tones have nothing in common with "red".
    weak = page.eval_on_selector_all("#results .card.weak .name", "names => names.map(n => n.textContent)")
    assert "red.png" not in weak and {"green.jpg", "blue.bmp", "low.wav", "high.flac"} <= set(weak)
    assert page.locator("#results .card.weak .weak-note").first.is_visible()
    assert "weak matches" in page.locator("#legend").inner_text()
    shoot(page, screenshots, "results")
    phone = first_search_done(pages.new(page.url, PHONE))
    phone.wait_for_selector("#results .card.audio .wave[data-loaded=true]")
    shoot(phone, screenshots, "results")

    page.select_option("#mode", "keyword")
    settled(page)
    assert url_query(page)["mode"] == ["keyword"]
    assert page.locator("#results .score").first.inner_text().startswith("keyword relevance ")
    page.select_option("#mode", "hybrid")
    settled(page)
    assert page.locator("#results .score").first.inner_text().startswith("fused rank ")
    page.get_by_role("checkbox", name="Images").uncheck()
    page.get_by_role("checkbox", name="Sounds").uncheck()
    settled(page)  # one kind: a plain grid, no section headings
    assert page.locator(".section-heading").count() == 0 and set(
        page.locator("#results .badge").all_text_contents()
    ) == {"text"}


def test_sound_cards_show_a_waveform_and_duration_and_text_cards_the_text(page, screenshots: Path) -> None:
    search(page, "low")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#results .card.audio .wave')].every(w => w.dataset.loaded)"
    )
    sounds = {name: card_named(page, name) for name in ("low.wav", "long-low.wav")}
    assert sounds["low.wav"].locator(".wave-svg rect").count() == 100
    assert sounds["low.wav"].locator(".duration").inner_text() == "1.0 s"
    # 5 s long, 2 s decoded: the bars cover the first 2/5 and a dashed line the rest.
    assert sounds["long-low.wav"].locator(".duration").inner_text() == "5.0 s"
    assert sounds["long-low.wav"].locator(".wave-rest").count() == 1
    assert "first 2.0 s" in sounds["long-low.wav"].locator(".wave").get_attribute("title")
    snippet = card_named(page, "low.md").locator(".snippet")
    assert snippet.inner_text().strip() == "# Low\nA low hum."
    # The box fits the text: all of it shown, and no tall empty area under it.
    assert snippet.evaluate("s => s.scrollHeight <= s.clientHeight + 1")
    visual = card_named(page, "low.md").locator(".visual").bounding_box()
    assert visual["height"] <= snippet.bounding_box()["height"] + 30


def test_preview_shows_the_whole_item_traps_focus_and_closes_with_escape(
    page, pages: Pages, server_url: str, screenshots: Path
) -> None:
    search(page, "red")
    first_image = page.locator("#results .card.image .open").first
    first_image.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#preview")
    dialog.wait_for(state="visible")
    assert page.locator("#preview-title").inner_text() == "red.png"
    image = dialog.locator(".preview-image img")
    image.wait_for()
    page.wait_for_function("() => document.querySelector('#preview .preview-image img').naturalWidth === 320")
    assert dialog.locator("dd.path").inner_text().endswith("/img/red.png")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#preview-details dt')].some(dt => dt.textContent === 'Size')"
    )
    download = dialog.locator("#preview-download")
    assert download.get_attribute("href").endswith("/media?download=1")
    response = page.request.get(server_url + download.get_attribute("href"))
    assert response.ok and response.headers["content-disposition"].startswith("attachment")
    shoot(page, screenshots, "preview-image")

    inside = "() => document.getElementById('preview').contains(document.activeElement)"
    for _ in range(12):
        page.keyboard.press("Tab")
        assert page.evaluate(inside)
    for _ in range(4):
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(inside)
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.closest('.card')?.dataset.id") == first_image.evaluate(
        "b => b.closest('.card').dataset.id"
    )

    # The long text in full (its card shows only the start), by a click anywhere on the card.
    page.get_by_label("Search text").fill("long note blue boat")
    page.keyboard.press("Enter")
    settled(page)
    card = card_named(page, "long-note.txt")
    assert "anchor down" not in card.locator(".snippet").inner_text()
    card.locator(".meta").click()
    dialog.wait_for(state="visible")
    assert dialog.locator(".full-text").inner_text().endswith("The last words: anchor down.")
    page.locator("#preview-close").click()
    dialog.wait_for(state="hidden")

    # A sound: its waveform, duration and player; › steps to the next result; More like this searches.
    page.get_by_label("Search text").fill("low")
    page.keyboard.press("Enter")
    settled(page)
    card_named(page, "long-low.wav").locator(".open").click()
    dialog.wait_for(state="visible")
    page.wait_for_function("() => document.querySelector('#preview .wave-large')?.dataset.loaded === 'true'")
    assert dialog.locator(".preview-duration").inner_text() == "Duration 5.0 s"
    assert dialog.locator("audio").get_attribute("src").endswith("/media")
    shoot(page, screenshots, "preview-sound")
    phone = first_search_done(pages.new(page.url, PHONE))
    phone.locator("#results .card.audio .open").first.click()
    phone.wait_for_function("() => document.querySelector('#preview .wave-large')?.dataset.loaded === 'true'")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shoot(phone, screenshots, "preview-sound")
    before = page.locator("#preview-title").inner_text()
    page.locator("#preview-next").click()
    assert page.locator("#preview-title").inner_text() != before
    name = page.locator("#preview-title").inner_text()
    page.locator("#preview-like").click()
    dialog.wait_for(state="hidden")
    settled(page)
    assert page.locator("#like-chip").is_visible() and page.locator("#like-name").inner_text() == name
    assert name not in card_names(page)


def test_the_query_lives_in_the_url_and_back_and_forward_work(page, pages: Pages, server_url: str) -> None:
    search(page, "red")
    assert url_query(page) == {"q": ["red"], "kinds": ["image,audio,text"], "mode": ["vector"]}
    assert page.title() == "red – xmodal"
    search(page, "blue")
    assert card_names(page, "image")[0] == "blue.bmp"
    page.go_back()
    page.wait_for_function("() => document.getElementById('q').value === 'red'")
    settled(page)
    assert card_names(page, "image")[0] == "red.png"
    page.go_forward()
    page.wait_for_function("() => document.getElementById('q').value === 'blue'")
    settled(page)
    assert card_names(page, "image")[0] == "blue.bmp"

    shared = first_search_done(pages.new(f"{server_url}/?q=green&kinds=image&mode=vector&k=7"))  # k not in the menu: 24
    assert card_names(shared)[0] == "green.jpg" and set(shared.locator("#results .badge").all_text_contents()) == {
        "image"
    }
    assert shared.locator("#page-size").input_value() == "24" and shared.locator("#error").is_hidden()
    assert (
        not shared.get_by_role("checkbox", name="Sounds").is_checked()
        and shared.get_by_role("checkbox", name="Images").is_checked()
    )

    like = card_named(page, "green.jpg").get_attribute("data-id")
    liked = first_search_done(pages.new(f"{server_url}/?like={like}&kinds=image,audio,text&mode=vector"))
    liked.wait_for_function("() => document.getElementById('like-name').textContent === 'green.jpg'")
    assert liked.locator("#like-chip").is_visible() and "green.jpg" not in card_names(liked) and card_names(liked)


def test_slash_focuses_the_search_box_and_more_like_never_joins_a_typed_query(page) -> None:
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("a/b")
    assert page.get_by_label("Search text").input_value() == "a/b"  # typed into the box, not a shortcut

    search(page, "green")
    page.get_by_role("button", name="More like green.jpg").click()
    page.wait_for_function("() => !document.getElementById('like-chip').hidden")
    settled(page)
    assert page.evaluate("document.activeElement.id") == "results-heading"
    assert url_query(page)["like"] and "q" not in url_query(page)
    page.get_by_label("Search text").fill("blue")
    assert page.locator("#like-chip").is_hidden()
    page.keyboard.press("Enter")
    settled(page)
    assert "like" not in url_query(page) and card_names(page, "image")[0] == "blue.bmp"

    page.get_by_role("button", name="More like blue.bmp").click()
    page.wait_for_function("() => !document.getElementById('like-chip').hidden")
    page.get_by_role("button", name="Stop searching for more like this item").click()
    assert page.locator("#like-chip").is_hidden() and page.evaluate("document.activeElement.id") == "q"


def test_unticking_every_kind_clears_the_results_and_says_why(page) -> None:
    search(page, "red")
    assert card_names(page)
    for kind in ("Images", "Sounds", "Texts"):
        page.get_by_role("checkbox", name=kind).uncheck()
    assert page.locator("#results .card").count() == 0 and page.locator("#more").is_hidden()
    assert "tick Images, Sounds or Texts" in page.locator("#status").inner_text()
    page.get_by_role("checkbox", name="Texts").check()
    settled(page)
    assert card_names(page) and set(page.locator("#results .badge").all_text_contents()) == {"text"}


def test_file_queries_and_their_errors(page, tmp_path: Path, screenshots: Path) -> None:
    query = tmp_path / "query.png"
    query.write_bytes(png((0, 240, 0)))
    page.set_input_files("#file", str(query))
    page.wait_for_function("() => document.querySelector('#results .card .name')?.textContent === 'green.jpg'")
    assert page.locator("#file-chip").is_visible() and page.locator("#file-name").inner_text() == "query.png"
    assert url_query(page)["file"] == ["query.png"]
    page.wait_for_function("() => document.querySelector('#results .card.image img')?.naturalWidth > 0")  # a thumbnail

    notes = tmp_path / "notes.pdf"
    notes.write_bytes(b"%PDF-1.4")
    page.set_input_files("#file", str(notes))
    alert = page.get_by_role("alert")
    page.wait_for_function("() => document.getElementById('error').textContent.includes('notes.pdf')")
    assert "Choose an image" in alert.inner_text()
    assert page.locator("#file-chip").is_hidden() and page.locator("#results .card").count() == 0

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    page.set_input_files("#file", str(broken))
    page.wait_for_function("() => document.getElementById('error').textContent.includes('broken.png')")
    assert "image" in alert.inner_text()
    assert page.locator("#file-chip").is_hidden() and page.locator("#file-name").inner_text() == ""
    assert "file" not in url_query(page)
    shoot(page, screenshots, "file-error")

    page.get_by_label("Search text").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "file"


@pytest.mark.parametrize("width", [320, 360])
def test_the_layout_fits_a_narrow_phone(pages: Pages, server_url: str, screenshots: Path, width: int) -> None:
    page = first_search_done(
        pages.new(f"{server_url}/?q=red&kinds=image,audio,text&mode=vector", {"width": width, "height": 700})
    )
    page.wait_for_selector("#results .card")
    overflow = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert page.evaluate(overflow) == 0
    wide = page.evaluate(f"""() => [...document.querySelectorAll('main *, header *')]
        .filter(e => e.getBoundingClientRect().right > {width} + 0.5).map(e => e.tagName + '.' + e.className)""")
    assert not wide, wide
    page.locator("details.more-options summary").click()
    assert page.evaluate(overflow) == 0
    if width == 320:
        shoot(page, screenshots, "results")


def test_an_empty_store_says_so_and_shows_the_command_that_fills_it(
    pages: Pages, empty_server_url: str, screenshots: Path
) -> None:
    for viewport in (DESKTOP, PHONE):
        page = pages.new(empty_server_url, viewport)
        panel = page.locator("#empty-store")
        panel.wait_for(state="visible")
        assert "This store is empty" in panel.inner_text() and "xmodal index --store STORE FOLDER" in panel.inner_text()
        assert page.locator("#store-info").inner_text().startswith("0 images, 0 sounds, 0 texts")
        assert "empty" in page.locator("#status").inner_text()
        shoot(page, screenshots, "empty-store")
