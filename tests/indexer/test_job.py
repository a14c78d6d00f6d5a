from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import solid
from tests.fakes import FakeEncoder
from xmodal.config import Settings
from xmodal.indexer import IndexJob, SourceProblem, collect_sources
from xmodal.store import Store


def run(store: Store, encoder: FakeEncoder, settings: Settings, *paths: Path, prune: bool = False):
    return IndexJob(store, encoder, settings).run(
        collect_sources(list(paths)), prune_under=list(paths) if prune else None
    )


def ids_by_name(store: Store) -> dict[str, int]:
    return {Path(path).name: item_id for path, item_id, duplicate in store.file_paths() if not duplicate}


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


def test_same_content_under_two_paths_is_embedded_once_and_reported(corpus, store, encoder, settings) -> None:
    (corpus / "img" / "copy.png").write_bytes((corpus / "img" / "red.png").read_bytes())
    summary = run(store, encoder, settings, corpus)
    assert (summary.indexed, summary.duplicates) == (7, 1)
    assert summary.duplicate_paths == [(str(corpus / "img" / "red.png"), str(corpus / "img" / "copy.png"))]
    assert len(store.vectors("image")) == 3
    again = run(store, encoder, settings, corpus)
    assert (again.indexed, again.unchanged, again.duplicates) == (0, 8, 0)
    (corpus / "img" / "later.png").write_bytes((corpus / "img" / "blue.bmp").read_bytes())
    assert run(store, encoder, settings, corpus).duplicate_paths == [
        (str(corpus / "img" / "later.png"), str(corpus / "img" / "blue.bmp"))
    ]


def test_a_moved_file_keeps_its_item_and_vector(corpus, store, encoder, settings) -> None:
    run(store, encoder, settings, corpus)
    before = ids_by_name(store)
    (corpus / "img" / "red.png").rename(corpus / "img" / "crimson.png")
    summary = run(store, encoder, settings, corpus)
    assert (summary.indexed, summary.moved) == (0, 1)
    assert ids_by_name(store)["crimson.png"] == before["red.png"]
    assert "red.png" not in ids_by_name(store)


def test_a_touched_file_is_not_embedded_again(corpus, store, encoder, settings) -> None:
    run(store, encoder, settings, corpus)
    os.utime(corpus / "snd" / "low.wav", (1, 1))
    calls = len(encoder.calls)
    assert run(store, encoder, settings, corpus).unchanged == 7
    assert len(encoder.calls) == calls


def test_prune_forgets_deleted_files_and_promotes_a_surviving_duplicate(corpus, store, encoder, settings) -> None:
    (corpus / "img" / "copy.png").write_bytes((corpus / "img" / "red.png").read_bytes())
    run(store, encoder, settings, corpus)
    primary = ids_by_name(store)["copy.png"]  # walked first; red.png is recorded as its duplicate
    (corpus / "img" / "copy.png").unlink()
    (corpus / "snd" / "high.flac").unlink()
    without_prune = run(store, encoder, settings, corpus)
    assert without_prune.pruned == 0 and len(store.vectors("audio")) == 2
    summary = run(store, encoder, settings, corpus, prune=True)
    assert summary.pruned == 2 and summary.indexed == 0
    assert ids_by_name(store)["red.png"] == primary  # the duplicate took the item over: same vector
    assert len(store.vectors("audio")) == 1 and store.verify() == []
    other = corpus.parent / "elsewhere"
    other.mkdir()
    (other / "note.txt").write_text("kept")
    run(store, encoder, settings, other)
    assert run(store, encoder, settings, corpus, prune=True).pruned == 0  # prune never reaches outside its roots
    assert "note.txt" in ids_by_name(store)


@pytest.mark.parametrize("workers", [0, 2])
def test_decoding_in_worker_processes_gives_the_same_store(corpus, tmp_path, encoder, workers) -> None:
    settings = Settings(store=tmp_path / f"store-{workers}", batch_size=2, workers=workers)
    store = Store.open(settings.store, encoder.info.identity(), writable=True)
    summary = run(store, encoder, settings, corpus)
    assert (summary.indexed, summary.failed) == (7, 0)
    assert sorted(ids_by_name(store)) == [
        "blue.bmp",
        "green.jpg",
        "high.flac",
        "low.md",
        "low.wav",
        "red.png",
        "red.txt",
    ]


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
    store = Store.open(settings.store, encoder.info.identity(), writable=True)
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
        {"id": "doc-1", "text": "the same id again, other text"},
    ]
    manifest.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n\n")
    summary = run(store, encoder, settings, manifest)
    assert summary.indexed == 2
    assert summary.failed == 5
    assert "given to another entry" in dict(summary.failures)["text 'doc-1'"]
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


def test_hostile_files_never_hang_or_abort_a_job(corpus, store, encoder, settings) -> None:
    hostile = corpus / "hostile"
    hostile.mkdir()
    os.mkfifo(hostile / "pipe.wav")  # reading it would block forever
    (hostile / "dangling.png").symlink_to(hostile / "nowhere.png")
    (hostile / "loop").symlink_to(hostile)  # a directory cycle
    (hostile / "folder.jpg").mkdir()
    (hostile / "empty.flac").write_bytes(b"")
    (hostile / "huge.txt").write_bytes(b"word " * 2_000_000)  # 10 MB: read up to the text limit
    bomb = hostile / "bomb.png"
    from PIL import Image

    Image.new("1", (20_000, 20_000)).save(bomb)  # tiny file, 400 MP when decoded
    (hostile / "line\nbreak.txt").write_text("a name with a newline")
    summary = run(store, encoder, settings.with_overrides(max_text_chars=1000), corpus)
    reasons = dict(summary.failures)
    assert "decompression bomb" in reasons[str(bomb)].replace("-", " ")
    assert (
        "no samples" in reasons[str(hostile / "empty.flac")] or "not a readable" in reasons[str(hostile / "empty.flac")]
    )
    assert summary.failed == 2 and summary.indexed == 7 + 2
    assert 990 <= len(store.by_path(str(hostile / "huge.txt")).text) <= 1000
