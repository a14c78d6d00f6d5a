"""A video in the web UI (headless Chromium, as tests/api/test_browser.py): its card shows the frames it
was indexed by, plays the clip with the middle frame as poster, and loads with no script error."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.api.test_browser import Pages, _serve, browser, screenshots, search, shoot  # noqa: F401
from tests.fakes import FakeEncoder
from tests.videos import write_video
from xmodal.config import Settings
from xmodal.indexer import IndexJob, collect_sources
from xmodal.modalities import Limits
from xmodal.store import Store


@pytest.fixture(scope="module")
def video_url(tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser-video")
    write_video(root / "sunset.webm", size=(160, 120), colours=((250, 10, 10), (250, 120, 10)), tone_hz=220)
    encoder = FakeEncoder()
    settings = Settings(store=root / "store", batch_size=4, video_frames=4)
    store = Store.open(settings.store, encoder.info.identity(), writable=True)
    IndexJob(store, encoder, settings).run(collect_sources([root], limits=Limits.for_indexing(settings)))
    store.close()
    yield from _serve(settings, encoder)


def test_a_video_card_shows_its_frames_and_plays_the_clip(browser, video_url: str, screenshots: Path) -> None:  # noqa: F811
    pages = Pages(browser)
    try:
        page = pages.new(video_url)
        page.wait_for_selector("#store-info[data-loaded]")
        search(page, "red")
        card = page.locator("#results .card.item").first
        assert card.locator(".part-image img").count() == 4
        clip = card.locator("video.clip")
        assert clip.get_attribute("src").endswith("/media") and clip.get_attribute("poster").endswith("/thumbnail")
        assert card.locator(".part-audio").inner_text() == "♪ soundtrack"
        page.wait_for_function(
            "() => [...document.querySelectorAll('#results .card.item img')].every(i => i.naturalWidth > 0)"
        )
        shoot(page, screenshots, "video-item")
        assert not pages.blocked and not pages.errors, (pages.blocked, pages.errors)
    finally:
        pages.close()
