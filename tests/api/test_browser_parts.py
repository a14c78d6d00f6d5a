"""Items with parts in the web UI (headless Chromium, as tests/api/test_browser.py): each card shows
every part (thumbnail, caption, player) with the best one marked; 'has a part of kind' filters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from tests.api.conftest import index_into
from tests.api.test_browser import Pages, _serve, browser, screenshots, search, settled, shoot  # noqa: F401
from tests.conftest import solid, tone
from tests.fakes import FakeEncoder
from xmodal.config import Settings


@pytest.fixture(scope="module")
def parts_url(tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser-parts")
    solid(root / "kettle.png", (250, 10, 10), (160, 120))
    tone(root / "kettle.wav", 220)
    solid(root / "mug.png", (240, 30, 10), (120, 160))
    solid(root / "leaf.png", (10, 240, 10))
    lines = [
        {"id": "kettle", "image": "kettle.png", "audio": "kettle.wav", "text": "A red kettle, humming low."},
        {"id": "mug", "image": "mug.png", "text": "A red mug."},
        {"id": "leaf", "image": "leaf.png"},
    ]
    (root / "items.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    encoder = FakeEncoder()
    settings = Settings(store=root / "store", batch_size=4)
    index_into(settings.store, [root / "items.jsonl"], encoder, settings)
    yield from _serve(settings, encoder)


def test_item_cards_show_every_part_and_the_has_part_filter(browser, parts_url: str, screenshots: Path) -> None:  # noqa: F811
    pages = Pages(browser)
    try:
        page = pages.new(parts_url)
        page.wait_for_selector("#store-info[data-loaded]")
        search(page, "red")
        assert page.locator(".section-heading").first.inner_text().startswith("Items with parts")
        kettle = page.locator("#results .card.item").filter(has=page.get_by_text("kettle", exact=True))
        assert kettle.locator(".part-image img").get_attribute("src").endswith("/thumbnail")
        assert kettle.locator(".part-text").inner_text() == "A red kettle, humming low."
        assert kettle.locator("audio").get_attribute("src").endswith("/media")
        assert page.locator("#results .card.item .part.best").count() == 2  # one per item
        page.wait_for_function("() => document.querySelector('#results .card.item img').naturalWidth > 0")
        shoot(page, screenshots, "items-with-parts")
        kettle.locator(".open").click()
        dialog = page.locator("#preview")
        dialog.wait_for(state="visible")
        assert dialog.locator(".preview-image img").count() == 1 and dialog.locator(".preview-audio audio").count() == 1
        assert dialog.locator(".full-text").inner_text() == "A red kettle, humming low."
        shoot(page, screenshots, "item-preview")
        page.keyboard.press("Escape")
        page.locator("summary").get_by_text("More options").click()
        page.select_option("#has-part", "audio")
        search(page, "red")
        settled(page)
        assert page.locator("#results .card .name").all_inner_texts() == ["kettle"]
        assert not pages.blocked and not pages.errors, (pages.blocked, pages.errors)
    finally:
        pages.close()
