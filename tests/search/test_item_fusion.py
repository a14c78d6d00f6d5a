"""Searching items with parts: late fusion (default) scores an item from its parts and names the best
one, early fusion searches the fused vectors, per-modality weights, keyword hits on captions."""

from __future__ import annotations

import pytest

from tests.conftest import solid, tone
from tests.indexer.test_parts import manifest
from xmodal.encoders.calibration import Calibration
from xmodal.indexer import IndexJob, collect_sources
from xmodal.search import Part, Query, Searcher


@pytest.fixture
def searcher(tmp_path, store, encoder, settings) -> Searcher:
    """kettle: red picture, a low sound, a caption about a kettle; bell: blue picture, high sound; a lone green one."""
    for name, colour in (("kettle", (250, 10, 10)), ("bell", (10, 10, 250)), ("leaf", (10, 240, 10))):
        solid(tmp_path / f"{name}.png", colour)
    tone(tmp_path / "kettle.wav", 220)
    tone(tmp_path / "bell.wav", 3000)
    path = manifest(
        tmp_path,
        {"id": "kettle", "image": "kettle.png", "audio": "kettle.wav", "text": "A kettle, whistling low."},
        {"id": "bell", "image": "bell.png", "audio": "bell.wav", "text": "A bell ringing high.", "metadata": {"n": 2}},
        {"id": "leaf", "image": "leaf.png"},
    )
    IndexJob(store, encoder, settings).run(collect_sources([path]))
    store.save()
    return Searcher(store, encoder)


def ask(searcher: Searcher, text: str, **options) -> list:
    return searcher.search(Query([Part(text=text)], **options)).hits


def test_late_fusion_returns_items_with_their_parts_and_best_part(searcher) -> None:
    hits = ask(searcher, "red kettle", k=3)
    assert [hit.external_id for hit in hits][:1] == ["kettle"] and hits[0].modality == "item"
    kettle = hits[0]
    assert sorted(part.modality for part in kettle.parts) == ["audio", "image", "text"]
    best = next(part for part in kettle.parts if part.id == kettle.best_part)
    assert best.modality in ("image", "text") and all(part.score is not None for part in kettle.parts)
    assert "parts" not in next(hit for hit in hits if hit.external_id == "leaf").to_dict()  # a single file as before
    assert kettle.to_dict()["parts"][0]["id"] == kettle.parts[0].id


def test_one_modality_scores_items_by_that_part_alone(searcher) -> None:
    low = ask(searcher, "low", modalities=["audio"], k=2)
    assert [hit.external_id for hit in low] == ["kettle", "bell"]
    assert next(p for p in low[0].parts if p.id == low[0].best_part).modality == "audio"
    assert low[0].score == pytest.approx(max(p.score for p in low[0].parts if p.modality == "audio"), abs=1e-5)


def test_weights_and_max_change_the_ranking(searcher) -> None:
    # "blue whistling": the bell's picture is blue, the kettle's caption says whistling
    assert ask(searcher, "blue whistling", weights={"image": 1, "text": 0, "audio": 0}, k=1)[0].external_id == "bell"
    assert ask(searcher, "blue whistling", weights={"image": 0, "text": 1, "audio": 0}, k=1)[0].external_id == "kettle"
    by_max = ask(searcher, "high", combine="max", modalities=["image", "audio"], k=1)[0]
    assert by_max.external_id == "bell" and by_max.score == pytest.approx(1.0, abs=1e-4)  # the sound alone


def test_early_fusion_searches_the_fused_vectors(searcher) -> None:
    hits = ask(searcher, "red low kettle", fusion="early", k=3)
    assert hits[0].external_id == "kettle" and hits[0].parts is not None and hits[0].best_part is not None
    weighted = ask(searcher, "blue whistling", fusion="early", weights={"image": 1, "text": 0, "audio": 0}, k=1)
    assert weighted[0].external_id == "bell"


def test_keyword_hits_on_captions_are_items_and_an_item_query_leaves_itself_out(searcher, store) -> None:
    hits = ask(searcher, "ringing", mode="keyword")
    assert [hit.external_id for hit in hits] == ["bell"]
    bell = store.by_external_id("bell")
    similar = searcher.search(Query([Part(item="bell")], k=3)).hits
    assert bell.id not in [hit.id for hit in similar] and similar


def test_calibrated_models_fuse_standardised_scores(searcher) -> None:
    searcher.encoder.calibration = Calibration(
        {("text", "image"): (0.0, 0.1), ("text", "text"): (0.5, 0.1), ("text", "audio"): (0.0, 0.1)}
    )
    try:
        hits = ask(searcher, "red", k=3)
    finally:
        searcher.encoder.calibration = Calibration()
    assert hits[0].external_id == "kettle"
