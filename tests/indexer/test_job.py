from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import solid
from tests.fakes import FakeEncoder
from xmodal.config import Settings
from xmodal.indexer import IndexJob, SourceProblem, collect_sources
from xmodal.store import Store


def run(store: Store, encoder: FakeEncoder, settings: Settings, *paths: Path):
    return IndexJob(store, encoder, settings).run(collect_sources(list(paths)))


def test_indexes_every_modality_and_skips_unknown_files(corpus, store, encoder, settings) -> None:
    summary = run(store, encoder, settings, corpus)
    assert (summary.indexed, summary.unchanged, summary.failed) == (7, 0, 0)
    assert store.counts() == {"image": {"indexed": 3}, "audio": {"indexed": 2}, "text": {"indexed": 2}}
    assert store.by_path(str(corpus / "txt" / "low.md")).text == "# Low\nA low hum."
    assert ("image", 2) in encoder.calls  # batched by batch_size


def test_rerun_adds_nothing_and_a_changed_file_is_reindexed(corpus, store, encoder, settings) -> None:
    run(store, encoder, settings, corpus)
    again = run(store, encoder, settings, corpus)
    assert (again.indexed, again.unchanged, again.failed) == (0, 7, 0)
    red = corpus / "img" / "red.png"
    old_id = store.by_path(str(red)).id
    solid(red, (10, 250, 10), size=(33, 24))
    changed = run(store, encoder, settings, corpus)
    assert (changed.indexed, changed.unchanged) == (1, 6)
    assert store.by_path(str(red)).id != old_id
    assert len(store.vectors("image")) == 3


def test_same_content_under_two_paths_is_embedded_once(corpus, store, encoder, settings) -> None:
    (corpus / "img" / "copy.png").write_bytes((corpus / "img" / "red.png").read_bytes())
    summary = run(store, encoder, settings, corpus)
    assert (summary.indexed, summary.unchanged) == (7, 1)


def test_bad_files_are_recorded_and_skipped(corpus, store, encoder, settings) -> None:
    (corpus / "img" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (corpus / "snd" / "noise.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    (corpus / "txt" / "binary.txt").write_bytes(b"\x00\x01\x02")
    (corpus / os.fsdecode(b"caf\xe9.txt")).write_text("a latin-1 file name")
    summary = run(store, encoder, settings, corpus, corpus / "missing-dir")
    assert summary.indexed == 8
    assert summary.failed == 4
    reasons = dict(summary.failures)
    assert "no such file" in reasons[str(corpus / "missing-dir")]
    assert "not a readable image" in reasons[str(corpus / "img" / "broken.jpg")]
    failed = {Path(item.path).name: item.error for item in store.failures()}
    assert set(failed) == {"broken.jpg", "noise.wav", "binary.txt"}
    assert store.by_path(str(corpus / os.fsdecode(b"caf\xe9.txt"))).status == "indexed"


def test_a_model_without_audio_records_sounds_as_failed(corpus, settings) -> None:
    encoder = FakeEncoder(modalities=("text", "image"))
    store = Store.open(settings.store, encoder.info.identity())
    summary = run(store, encoder, settings, corpus)
    assert summary.failed == 2
    assert all("no audio tower" in reason for _, reason in summary.failures)


def test_manifest_with_inline_texts_paths_and_bad_lines(corpus, store, encoder, settings) -> None:
    manifest = corpus / "items.jsonl"
    lines = [
        {"id": "doc-1", "text": "blue water", "metadata": {"lang": "en"}},
        {"id": "img-red", "path": "img/red.png", "metadata": {"source": "drawn"}},
        {"path": "img/missing.png"},
        {"text": ""},
        {"id": {"nested": 1}, "text": "x"},
    ]
    manifest.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n\n")
    summary = run(store, encoder, settings, manifest)
    assert summary.indexed == 2
    assert summary.failed == 4
    doc = store.by_external_id("doc-1")
    assert (doc.modality, doc.text, doc.meta) == ("text", "blue water", {"lang": "en"})
    assert store.by_external_id("img-red").meta == {"source": "drawn"}
    assert run(store, encoder, settings, manifest).indexed == 0


def test_collect_sources_reports_unsupported_files(tmp_path: Path) -> None:
    (tmp_path / "a.zip").write_bytes(b"PK")
    [problem] = list(collect_sources([tmp_path / "a.zip"]))
    assert isinstance(problem, SourceProblem) and "unsupported" in problem.reason


def test_encoder_failure_on_one_input_spares_the_batch(corpus, store, settings) -> None:
    class Picky(FakeEncoder):
        def _encode_image(self, images):
            if any(image.size == (7, 7) for image in images):
                raise RuntimeError("cannot handle 7x7")
            return super()._encode_image(images)

    solid(corpus / "img" / "tiny.png", (1, 2, 3), size=(7, 7))
    summary = run(store, Picky(), settings, corpus)
    assert summary.indexed == 7 and summary.failed == 1
    assert "cannot handle 7x7" in summary.failures[0][1]
