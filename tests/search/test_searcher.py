from __future__ import annotations

import json

import pytest

from tests.conftest import solid, tone
from xmodal.encoders import load_audio, load_image
from xmodal.encoders.calibration import Calibration
from xmodal.indexer import IndexJob, collect_sources
from xmodal.search import ItemNotFound, Searcher
from xmodal.search.batch import run_batch


@pytest.fixture
def searcher(corpus, store, encoder, settings) -> Searcher:
    IndexJob(store, encoder, settings).run(collect_sources([corpus]))
    return Searcher(store, encoder)


def names(hits) -> list[str]:
    return [(hit.path or hit.text).rsplit("/", 1)[-1] for hit in hits]


def test_text_finds_images_sounds_and_texts(searcher) -> None:
    assert names(searcher.search_text("red", ["image"], k=1)) == ["red.png"]
    assert names(searcher.search_text("a high note", ["audio"], k=1)) == ["high.flac"]
    hits = searcher.search_text("red", k=3)
    assert {hit.modality for hit in hits[:2]} == {"image", "text"}
    assert hits == sorted(hits, key=lambda hit: -hit.score)


def test_image_and_audio_queries(searcher, tmp_path) -> None:
    query = load_image(solid(tmp_path / "q.png", (0, 0, 200)), 10**8)
    assert names(searcher.search_image(query, ["image"], k=1)) == ["blue.bmp"]
    sound = load_audio(tone(tmp_path / "q.wav", 180), 10)
    assert names(searcher.search_audio(sound, ["text"], k=1)) == ["low.md"]


def test_item_query_leaves_the_item_out_and_respects_k(searcher, store) -> None:
    red = store.by_path(next(p for p in [h.path for h in searcher.search_text("red", ["image"], 1)]))
    hits = searcher.search_item(red.id, k=2)
    assert red.id not in [hit.id for hit in hits]
    assert len(hits) == 2 and names(hits)[0] == "red.txt"
    with pytest.raises(ItemNotFound):
        searcher.search_item(10_000)


def test_batch_queries_keep_order_and_report_bad_lines(searcher, settings, tmp_path) -> None:
    lines = [
        json.dumps({"qid": "a", "text": "blue", "modality": ["image"], "k": 1}),
        "{broken",
        json.dumps({"qid": "c", "text": "x", "item": 1}),
        json.dumps({"qid": "d", "image": str(tmp_path / "missing.png")}),
        json.dumps({"qid": "e", "audio": str(tone(tmp_path / "hi.wav", 4000)), "modality": "audio", "k": 1}),
        json.dumps({"qid": "f", "text": "red", "k": 0}),
    ]
    records = list(run_batch(searcher, lines, settings))
    assert [record["qid"] for record in records] == ["a", 2, "c", "d", "e", "f"]
    assert names_of(records[0]) == ["blue.bmp"]
    assert "not valid JSON" in records[1]["error"]
    assert "exactly one of" in records[2]["error"]
    assert "cannot read" in records[3]["error"]
    assert names_of(records[4]) == ["high.flac"]
    assert records[5]["error"].startswith("line 6: k:")


def names_of(record: dict) -> list[str]:
    return [result["path"].rsplit("/", 1)[-1] for result in record["results"]]


def test_a_calibrated_model_interleaves_kinds_by_standing_above_their_background(searcher, encoder) -> None:
    """Raw cosine puts the red picture first for the query "red"; a calibration saying that text->image
    cosines run high (background 0.9 +- 0.1) and text->text ones low (0.0 +- 0.1) puts the red text, far
    above its background, first. Scores stay cosines."""
    raw = searcher.search_text("red", ["image", "text"], k=2)
    assert names(raw) == ["red.png", "red.txt"]
    encoder.calibration = Calibration({("text", "image"): (0.9, 0.1), ("text", "text"): (0.0, 0.1)})
    calibrated = searcher.search_text("red", ["image", "text"], k=2)
    assert names(calibrated) == ["red.txt", "red.png"]
    assert {hit.id: hit.score for hit in calibrated} == {hit.id: hit.score for hit in raw}
    # a kind the calibration does not cover: raw order, as before
    assert names(searcher.search_text("red", ["image", "text", "audio"], k=1)) == ["red.png"]


def test_calibration_round_trips_through_the_heads_metadata() -> None:
    calibration = Calibration({("audio", "text"): (0.12, 0.05), ("text", "image"): (0.2, 0.08)})
    again = Calibration.from_json(calibration.to_json())
    assert again == calibration and again.standardise("audio", "text", 0.22) == pytest.approx(2.0)
    assert Calibration.from_json(None).covers("text", ["image"]) is False
