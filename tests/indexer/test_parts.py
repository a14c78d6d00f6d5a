"""Items with parts: a manifest line naming several media or files sharing a stem become one item; each
part keeps its own vector and incremental rules, the item holds the fused vector; crash safety."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import solid, tone
from tests.fakes import FakeEncoder
from xmodal.config import Settings
from xmodal.fusion import fused_vector
from xmodal.indexer import IndexJob, ItemSource, SourceProblem, collect_sources
from xmodal.store import Store
from xmodal.store.schema import ITEM


def run(store: Store, encoder: FakeEncoder, settings: Settings, *paths: Path, pair: bool = False, prune: bool = False):
    sources = collect_sources(list(paths), pair_by_stem=pair)
    return IndexJob(store, encoder, settings).run(sources, prune_under=list(paths) if prune else None)


@pytest.fixture
def stems(tmp_path: Path) -> Path:
    """dog: picture, caption, sound; cat: picture and caption; lone.png alone."""
    root = tmp_path / "stems"
    root.mkdir()
    solid(root / "dog.png", (250, 10, 10))
    (root / "dog.txt").write_text("A red dog.")
    tone(root / "dog.wav", 220)
    solid(root / "cat.jpg", (10, 10, 250))
    (root / "cat.md").write_text("A blue cat.")
    solid(root / "lone.png", (10, 240, 10))
    return root


def manifest(folder: Path, *lines: dict) -> Path:
    path = folder / "items.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def item_of(store: Store, external_id: str):
    item = store.by_external_id(external_id)
    assert item is not None and item.modality == ITEM
    return item, store.parts_of([item.id])[item.id]


def fused_of_parts(store: Store, parts) -> np.ndarray:
    return fused_vector([store.vectors(p.modality).vector(p.id) for p in parts], [p.modality for p in parts])


def test_files_sharing_a_stem_become_one_item_with_parts(stems, store, encoder, settings) -> None:
    summary = run(store, encoder, settings, stems, pair=True)
    assert (summary.indexed, summary.failed) == (3, 0)  # dog, cat, lone.png
    dog, parts = item_of(store, str(stems / "dog"))
    assert sorted(p.modality for p in parts) == ["audio", "image", "text"] and dog.path is None
    assert {p.parent_id for p in parts} == {dog.id}
    assert next(p.text for p in parts if p.modality == "text") == "A red dog."
    assert store.by_path(str(stems / "lone.png")).parent_id is None  # a file alone stays a single-file item
    assert store.counts() == {"item": {"indexed": 2}, "image": {"indexed": 3}, "text": {"indexed": 2},
                              "audio": {"indexed": 1}}
    fused = store.vectors(ITEM).vector(dog.id)
    assert np.allclose(fused, fused_of_parts(store, parts), atol=1e-6) and abs(np.linalg.norm(fused) - 1) < 1e-5
    assert store.verify() == []
    calls = len(encoder.calls)
    again = run(store, encoder, settings, stems, pair=True)
    assert (again.indexed, again.unchanged) == (0, 3) and len(encoder.calls) == calls  # nothing read again


def test_without_the_flag_the_same_files_are_single_items(stems, store, encoder, settings) -> None:
    assert run(store, encoder, settings, stems).indexed == 6
    assert ITEM not in store.counts()


def test_a_manifest_line_names_several_media(tmp_path, store, encoder, settings) -> None:
    solid(tmp_path / "a.png", (250, 10, 10))
    solid(tmp_path / "b.png", (240, 20, 10))
    tone(tmp_path / "a.wav", 3000)
    path = manifest(
        tmp_path,
        {"id": "p1", "image": ["a.png", "b.png"], "audio": "a.wav", "text": "A red kettle.", "metadata": {"shop": 1}},
        {"id": "p2", "image": "a.png"},  # one medium: a single-file item, as before
        {"image": ["a.png"], "text": "no id"},
        {"id": "p4", "image": "a.wav", "text": "x"},
        {"id": "p5", "image": 3},
    )
    found = list(collect_sources([path]))
    assert isinstance(found[0], ItemSource)
    assert [p.modality for p in found[0].parts] == ["image", "image", "audio", "text"]
    assert found[1].external_id == "p2" and found[1].modality == "image"
    reasons = [entry.reason for entry in found[2:] if isinstance(entry, SourceProblem)]
    assert reasons == [
        'a line with several media needs an "id" (it names the item across runs)',
        "a.wav: not image file (JPEG, PNG, GIF, BMP, WebP, TIFF)",
        '"image" must be a file path or a list of file paths',
    ]
    summary = run(store, encoder, settings, path)
    assert summary.failed == 4 and summary.failures[-1] == (
        str(tmp_path / "a.png"), "this job indexes the file as an item of its own too: give it once"
    )
    item, parts = item_of(store, "p1")
    assert item.meta == {"shop": 1} and all(p.meta == {"shop": 1} for p in parts)
    assert sorted(p.modality for p in parts) == ["audio", "image", "text"]
    assert store.by_path(str(tmp_path / "a.png")).external_id == "p2"
    assert store.by_path(str(tmp_path / "b.png")).parent_id == item.id


def test_changing_only_the_caption_re_embeds_only_the_caption(tmp_path, store, encoder, settings) -> None:
    solid(tmp_path / "a.png", (250, 10, 10))
    tone(tmp_path / "a.wav", 220)
    line = {"id": "p1", "image": "a.png", "audio": "a.wav", "text": "A red thing."}
    run(store, encoder, settings, manifest(tmp_path, line))
    item, before = item_of(store, "p1")
    old_fused = store.vectors(ITEM).vector(item.id)
    encoder.calls.clear()
    summary = run(store, encoder, settings, manifest(tmp_path, {**line, "text": "A low hum."}))
    assert summary.indexed == 1 and encoder.calls == [("text", 1)]  # the picture and the sound are not read
    after_item, after = item_of(store, "p1")
    assert after_item.id == item.id
    kept = {p.id for p in before if p.modality != "text"}
    assert kept <= {p.id for p in after} and next(p.text for p in after if p.modality == "text") == "A low hum."
    assert len(store.vectors("text")) == 1  # the old caption's vector is gone
    assert not np.allclose(store.vectors(ITEM).vector(item.id), old_fused)
    assert np.allclose(store.vectors(ITEM).vector(item.id), fused_of_parts(store, after), atol=1e-6)
    encoder.calls.clear()
    with_metadata = manifest(tmp_path, {**line, "text": "A low hum.", "metadata": {"k": 1}})
    assert run(store, encoder, settings, with_metadata).indexed == 1
    assert encoder.calls == [] and item_of(store, "p1")[0].meta == {"k": 1}  # metadata alone: no embedding
    assert store.verify() == []


def test_a_removed_part_file_leaves_the_item_and_a_gone_stem_leaves_nothing(stems, store, encoder, settings) -> None:
    run(store, encoder, settings, stems, pair=True)
    (stems / "dog.wav").unlink()
    run(store, encoder, settings, stems, pair=True, prune=True)
    dog, parts = item_of(store, str(stems / "dog"))
    assert sorted(p.modality for p in parts) == ["image", "text"] and len(store.vectors("audio")) == 0
    assert np.allclose(store.vectors(ITEM).vector(dog.id), fused_of_parts(store, parts), atol=1e-6)
    (stems / "dog.png").unlink()
    (stems / "dog.txt").unlink()
    run(store, encoder, settings, stems, pair=True, prune=True)
    assert store.by_external_id(str(stems / "dog")) is None and store.verify() == []
    assert len(store.vectors(ITEM)) == 1  # cat


def test_same_content_in_two_items_is_embedded_once(tmp_path, store, encoder, settings) -> None:
    solid(tmp_path / "a.png", (250, 10, 10))
    (tmp_path / "b.png").write_bytes((tmp_path / "a.png").read_bytes())
    run(store, encoder, settings, manifest(tmp_path, {"id": "x", "image": "a.png", "text": "A red cup."}))
    encoder.calls.clear()
    run(store, encoder, settings, manifest(tmp_path, {"id": "y", "image": "b.png", "text": "A red cup."}))
    assert encoder.calls == [] and store.counts()[ITEM] == {"indexed": 2}
    assert len(store.vectors("image")) == 2  # each item owns its part; the second's vector is a copy


def test_deleting_an_item_takes_its_parts_and_a_part_its_share(stems, store, encoder, settings) -> None:
    run(store, encoder, settings, stems, pair=True)
    dog, parts = item_of(store, str(stems / "dog"))
    store.remove([next(p.id for p in parts if p.modality == "audio")])
    left = item_of(store, str(stems / "dog"))[1]
    assert np.allclose(store.vectors(ITEM).vector(dog.id), fused_of_parts(store, left), atol=1e-6)
    store.remove([dog.id])
    assert store.get([p.id for p in parts]) == {} and store.verify() == []


def abandon(store: Store) -> None:
    """What a kill -9 leaves: whatever was committed, no save of the vector files."""
    store._lock.close()  # type: ignore[union-attr]
    store.engine.dispose()


def test_a_crash_before_the_save_of_a_new_item_leaves_a_store_that_repairs_and_resumes(stems, settings) -> None:
    encoder = FakeEncoder()
    store = Store.open(settings.store, encoder.info.identity(), writable=True)
    settings = settings.with_overrides(checkpoint_seconds=3600)
    job = IndexJob(store, encoder, settings)
    job.store.optimize = lambda *a, **k: {}  # type: ignore[method-assign]  # the job's end would save: crash before it
    job.run(collect_sources([stems], pair_by_stem=True))
    abandon(store)
    reader = Store.open(settings.store)
    assert reader.counts().get(ITEM, {}).get("indexed", 0) == 0  # nothing searchable without its vectors
    store = Store.open(settings.store, encoder.info.identity(), writable=True)
    assert store.verify() == [] and ITEM not in store.counts()
    run(store, encoder, settings, stems, pair=True)
    assert store.counts()[ITEM] == {"indexed": 2} and store.verify() == []


def test_a_crash_during_a_caption_change_repairs_to_a_consistent_item(tmp_path, store, encoder, settings) -> None:
    solid(tmp_path / "a.png", (250, 10, 10))
    line = {"id": "p1", "image": "a.png", "text": "A red thing."}
    run(store, encoder, settings, manifest(tmp_path, line))
    store.save()
    job = IndexJob(store, encoder, settings.with_overrides(checkpoint_seconds=3600))
    store.optimize = lambda *a, **k: {}  # type: ignore[method-assign]
    job.run(collect_sources([manifest(tmp_path, {**line, "text": "A low hum."})]))
    abandon(store)
    repaired = Store.open(settings.store, encoder.info.identity(), writable=True)
    item, parts = item_of(repaired, "p1")
    assert repaired.verify() == [] and item.status == "indexed"
    assert np.allclose(repaired.vectors(ITEM).vector(item.id), fused_of_parts(repaired, parts), atol=1e-6)
    run(repaired, encoder, settings, manifest(tmp_path, {**line, "text": "A low hum."}))
    item, parts = item_of(repaired, "p1")
    assert sorted((p.modality, p.text) for p in parts) == [("image", None), ("text", "A low hum.")]
    assert np.allclose(repaired.vectors(ITEM).vector(item.id), fused_of_parts(repaired, parts), atol=1e-6)
    assert repaired.verify() == []


def test_lost_vectors_come_back_for_parts_and_their_item(stems, store, encoder, settings) -> None:
    import shutil

    from xmodal.indexer.restore import restore_lost

    run(store, encoder, settings, stems, pair=True)
    store.close()
    shutil.rmtree(settings.store / "vectors")  # every vector lost: rows are kept, waiting to be re-embedded
    store = Store.open(settings.store, encoder.info.identity(), writable=True)
    dog = store.by_external_id(str(stems / "dog"))
    assert dog.status == "lost" and {p.status for p in store.parts_of([dog.id], embedded_only=False)[dog.id]} == {
        "lost"
    }
    report = restore_lost(store, encoder, settings)
    assert not report.kept and ITEM not in report.restored
    dog, parts = item_of(store, str(stems / "dog"))
    assert dog.status == "indexed" and len(parts) == 3 and store.verify() == []
    assert np.allclose(store.vectors(ITEM).vector(dog.id), fused_of_parts(store, parts), atol=1e-6)


def test_items_with_parts_on_every_database(tmp_path, database_url, encoder, settings) -> None:
    from xmodal.search import Part, Query, Searcher
    from xmodal.store.filters import Filters

    store = Store.open(tmp_path / "db-store", encoder.info.identity(), writable=True, database_url=database_url)
    solid(tmp_path / "a.png", (250, 10, 10))
    tone(tmp_path / "a.wav", 220)
    solid(tmp_path / "b.png", (10, 10, 250))
    line = {"id": "p1", "image": "a.png", "audio": "a.wav", "text": "A red thing."}
    other = {"id": "p2", "image": "b.png", "text": "A blue thing."}
    run(store, encoder, settings, manifest(tmp_path, line, other))
    encoder.calls.clear()
    run(store, encoder, settings, manifest(tmp_path, {**line, "text": "A low thing."}, other))
    assert encoder.calls == [("text", 1)]
    store.save()
    hits = Searcher(store, encoder).search(Query([Part(text="thing")], filters=Filters(has_part=["audio"]))).hits
    assert [hit.external_id for hit in hits] == ["p1"]
    store.remove([store.by_external_id("p1").id])
    assert store.verify() == [] and store.counts()[ITEM] == {"indexed": 1}
    store.close()
