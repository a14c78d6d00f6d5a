"""Video files as items with parts: frames (images) and the soundtrack (audio), found through either,
unchanged videos not read again, gone videos pruned, hostile videos one recorded failure each."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import solid
from tests.fakes import FakeEncoder
from tests.videos import write_video
from xmodal.config import Settings
from xmodal.indexer import IndexJob, collect_sources
from xmodal.modalities import Limits
from xmodal.search import Part, Query, Searcher
from xmodal.store import Store
from xmodal.store.schema import ITEM

RED, BLUE = (250, 10, 10), (10, 10, 250)


def run(store: Store, encoder: FakeEncoder, settings: Settings, *paths: Path, prune: bool = False):
    sources = collect_sources(list(paths), limits=Limits.for_indexing(settings))
    summary = IndexJob(store, encoder, settings).run(sources, prune_under=list(paths) if prune else None)
    store.save()
    return summary


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    """A red video with a low hum, a blue silent one, a green photo and a file that is not a video."""
    root = tmp_path / "videos"
    root.mkdir()
    write_video(root / "red.mp4", colours=(RED,), tone_hz=220)
    write_video(root / "blue.webm", colours=(BLUE,), tone_hz=None)
    solid(root / "leaf.png", (10, 240, 10))
    (root / "broken.mkv").write_bytes(b"not a video" * 50)
    return root


def parts_of(store: Store, path: Path):
    item = store.by_external_id(str(path))
    assert item is not None and item.modality == ITEM and item.path == str(path)
    return item, store.parts_of([item.id])[item.id]


def test_a_video_is_an_item_of_frames_and_soundtrack_found_through_either(videos, store, encoder, settings) -> None:
    summary = run(store, encoder, settings.with_overrides(video_frames=4), videos)
    assert (summary.indexed, summary.failed) == (3, 1)
    assert summary.failures[0][0].endswith("broken.mkv") and "not a readable video" in summary.failures[0][1]
    red, red_parts = parts_of(store, videos / "red.mp4")
    assert sorted(part.modality for part in red_parts) == ["audio", "image", "image", "image", "image"]
    assert all(part.path is None for part in red_parts)  # the file is the item's: parts are read from it
    _, blue_parts = parts_of(store, videos / "blue.webm")
    assert [part.modality for part in blue_parts] == ["image"] * 4  # no soundtrack, no audio part
    searcher = Searcher(store, encoder)
    by_colour = searcher.search(Query([Part(text="blue")], k=1)).hits[0]
    assert by_colour.external_id == str(videos / "blue.webm") and len(by_colour.parts) == 4
    by_sound = searcher.search(Query([Part(text="low")], modalities=["audio"], k=1)).hits[0]
    assert by_sound.id == red.id and next(p for p in by_sound.parts if p.id == by_sound.best_part).modality == "audio"


def test_an_unchanged_video_is_not_read_again_and_a_changed_one_is(videos, store, settings) -> None:
    first = FakeEncoder()
    run(store, first, settings, videos)
    again = FakeEncoder()
    summary = run(store, again, settings, videos)
    assert summary.indexed == 0 and again.calls == []
    write_video(videos / "red.mp4", colours=(BLUE,), tone_hz=220)  # same name, new content
    os.utime(videos / "red.mp4", (1, 1))
    changed = FakeEncoder()
    summary = run(store, changed, settings, videos)
    assert summary.indexed == 1 and sum(n for kind, n in changed.calls if kind == "image") == settings.video_frames
    _, parts = parts_of(store, videos / "red.mp4")
    assert len(parts) == settings.video_frames + 1


def test_a_deleted_video_is_pruned_with_its_parts(videos, store, encoder, settings) -> None:
    run(store, encoder, settings, videos)
    item, parts = parts_of(store, videos / "red.mp4")
    (videos / "red.mp4").unlink()
    run(store, encoder, settings, videos, prune=True)
    assert store.by_external_id(str(videos / "red.mp4")) is None
    assert store.parts_of([item.id])[item.id] == []


def test_a_manifest_line_may_name_a_video(tmp_path: Path, store, encoder, settings) -> None:
    write_video(tmp_path / "clip.mov", colours=(RED,))
    manifest = tmp_path / "items.jsonl"
    manifest.write_text(json.dumps({"id": "clip-1", "path": "clip.mov", "metadata": {"source": "phone"}}) + "\n")
    summary = run(store, encoder, settings, manifest)
    assert summary.indexed == 1
    item = store.by_external_id("clip-1")
    assert item.modality == ITEM and item.meta == {"source": "phone"} and item.path == str(tmp_path / "clip.mov")


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda path: path.write_bytes(b""), "empty file"),
        (lambda path: path.write_bytes(write_video(path).read_bytes()[:3000]), "not a readable video"),
        (lambda path: write_video(path, frames=False), "no video stream"),
    ],
)
def test_hostile_videos_are_one_recorded_failure(tmp_path: Path, store, encoder, settings, make, reason) -> None:
    make(tmp_path / "hostile.mp4")
    summary = run(store, encoder, settings, tmp_path)
    assert summary.failed == 1 and reason in summary.failures[0][1] and summary.indexed == 0


def test_a_model_without_sound_indexes_the_frames_only(videos, store, settings) -> None:
    images_only = FakeEncoder(modalities=("text", "image"))
    summary = run(store, images_only, settings, videos)
    assert (summary.indexed, summary.failed) == (3, 1)  # the broken file only: a soundtrack left out is no failure
    _, parts = parts_of(store, videos / "red.mp4")
    assert {part.modality for part in parts} == {"image"}


def test_a_copy_of_a_video_copies_its_vectors(videos, store, settings) -> None:
    run(store, FakeEncoder(), settings, videos)
    (videos / "copy.mp4").write_bytes((videos / "red.mp4").read_bytes())
    again = FakeEncoder()
    summary = run(store, again, settings, videos)
    assert summary.indexed == 1 and again.calls == []  # the same frames and soundtrack: nothing embedded
    _, original = parts_of(store, videos / "red.mp4")
    _, copy = parts_of(store, videos / "copy.mp4")
    assert [(p.modality, p.piece, p.content_hash) for p in copy] == [
        (p.modality, p.piece, p.content_hash) for p in original
    ]


@pytest.mark.parametrize(
    "caps, reason",
    [({"max_video_seconds": 1.0}, "2 s long, over the 1 s limit"), ({"max_video_pixels": 1000}, "over the 0.001 MP")],
)
def test_overlong_or_oversized_videos_are_refused_at_the_walk(tmp_path: Path, store, encoder, settings, caps, reason):
    write_video(tmp_path / "clip.mkv")
    summary = run(store, encoder, settings.with_overrides(**caps), tmp_path)
    assert (summary.indexed, summary.failed) == (0, 1) and reason in summary.failures[0][1] and encoder.calls == []
