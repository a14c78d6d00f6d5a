"""Re-indexing an unchanged file through a manifest takes the entry's new id and metadata (the vector
stays); an id another item holds is a failure of that entry, and the file keeps its row (issue 8, minor)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import solid
from tests.fakes import FakeEncoder
from xmodal.config import Settings
from xmodal.engine import Engine


def manifest(folder: Path, *entries: dict) -> Path:
    path = folder / "list.jsonl"
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    return path


def test_a_manifest_gives_an_unchanged_file_its_new_id_and_metadata(tmp_path: Path, settings: Settings) -> None:
    solid(tmp_path / "red.png", (250, 10, 10))
    solid(tmp_path / "blue.png", (10, 10, 250))
    first = manifest(tmp_path, {"path": "red.png", "id": "r1", "metadata": {"year": 2020}},
                     {"path": "blue.png", "id": "b1"})
    with Engine(settings, encoder=FakeEncoder()) as engine:
        engine.index([first])
        red = engine.item("r1").id
    again = manifest(tmp_path, {"path": "red.png", "id": "r2", "metadata": {"year": 2021, "tag": "warm"}},
                     {"path": "blue.png", "id": "r2"})
    with Engine(settings, encoder=FakeEncoder()) as engine:
        summary = engine.index([again])
        assert (summary.updated, summary.indexed, summary.unchanged, summary.failed) == (1, 0, 0, 1)
        assert "'r2' is another item's already" in summary.failures[0][1]
        item = engine.item("r2")
        assert item.id == red and item.meta == {"year": 2021, "tag": "warm"} and item.status == "indexed"
        assert engine.item("b1").status == "indexed"  # the refused entry's file keeps its row and id
    with Engine(settings, encoder=FakeEncoder()) as engine:
        summary = engine.index([tmp_path / "red.png"])  # a plain path gives no id or metadata: kept
        assert summary.unchanged == 1 and engine.item("r2").meta == {"year": 2021, "tag": "warm"}
