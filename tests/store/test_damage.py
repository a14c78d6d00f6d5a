"""Issue 8 #8: a damaged store is found by `check`, said in one line, and repaired without losing items.
A corrupt SQLite page is damage (not "ok"); a vector file that cannot be read, or a missing `vectors/`
folder, is rebuilt by re-embedding the items from their files under the same ids: repair never deletes
a row because its vector is missing."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.runner import xmodal
from tests.fakes import FakeEncoder
from xmodal.config import Settings
from xmodal.engine import Engine
from xmodal.search import Part, Query
from xmodal.store import Store
from xmodal.store.database import DatabaseDamaged
from xmodal.store.records import StoreDamaged


def indexed(corpus: Path, settings: Settings) -> dict[str, int]:
    """Index the corpus; its items' ids by file name."""
    with Engine(settings, encoder=FakeEncoder()) as engine:
        engine.index([corpus])
    return ids_by_name(settings)


def ids_by_name(settings: Settings) -> dict[str, int]:
    store = Store.open(settings.store, database_url=settings.database_url)
    paths = store.file_paths()
    store.engine.dispose()
    return {Path(path).name: item_id for path, item_id, _ in paths}


def best(engine: Engine, text: str) -> list[int]:
    return [hit.id for hit in engine.search(Query([Part(text=text)], k=3)).hits]


def test_a_missing_vectors_folder_is_re_embedded_under_the_same_ids(corpus: Path, settings: Settings) -> None:
    ids = indexed(corpus, settings)
    with Engine(settings, encoder=FakeEncoder()) as engine:
        red = best(engine, "red")
    shutil.rmtree(settings.store / "vectors")
    with Engine(settings, encoder=FakeEncoder()) as engine:
        found = engine.check()
        assert not found.ok and any("indexed rows have no vector" in line for line in found.found)
        report = engine.check(repair=True)
    assert report.ok, report.remaining
    assert any(line.startswith("re-embedded 3 image items under their ids") for line in report.repaired)
    assert ids_by_name(settings) == ids
    with Engine(settings, encoder=FakeEncoder()) as engine:
        assert best(engine, "red") == red and red[0] == ids["red.png"]


def test_rows_whose_files_are_gone_too_are_kept_and_reported(corpus: Path, settings: Settings) -> None:
    ids = indexed(corpus, settings)
    shutil.rmtree(settings.store / "vectors")
    (corpus / "img" / "blue.bmp").unlink()
    with Engine(settings, encoder=FakeEncoder()) as engine:
        report = engine.check(repair=True)
        assert not report.ok and report.items["image"] == {"indexed": 2, "lost": 1}
        assert any(f"id {ids['blue.bmp']}" in line and "blue.bmp" in line for line in report.repaired)
        assert any("1 rows wait to be re-embedded" in line for line in report.remaining)
        assert engine.item(ids["blue.bmp"]).status == "lost"  # kept, with its id, unsearchable
        assert ids["blue.bmp"] not in best(engine, "blue")


def test_a_truncated_vector_file_is_damage_and_is_rebuilt_in_place(corpus: Path, settings: Settings) -> None:
    ids = indexed(corpus, settings)
    vector_file = settings.store / "vectors" / "image.faiss"
    vector_file.write_bytes(vector_file.read_bytes()[:100])
    with Engine(settings, encoder=FakeEncoder()) as engine:
        with pytest.raises(StoreDamaged, match="image vector index .* `xmodal check --repair"):
            engine.check()
        report = engine.check(repair=True)
    assert report.ok, report.remaining
    assert "set aside image.faiss as image.faiss.damaged, to rebuild it" in report.repaired
    assert (settings.store / "vectors" / "image.faiss.damaged").stat().st_size == 100  # kept, never deleted
    assert ids_by_name(settings) == ids
    with Engine(settings, encoder=FakeEncoder()) as engine:
        assert best(engine, "green")[0] == ids["green.jpg"]


def test_an_index_job_re_embeds_lost_rows_under_their_ids(corpus: Path, settings: Settings) -> None:
    ids = indexed(corpus, settings)
    shutil.rmtree(settings.store / "vectors")
    with Engine(settings, encoder=FakeEncoder()) as engine:
        summary = engine.index([corpus])
        assert (summary.restored, summary.indexed, summary.unchanged) == (7, 0, 7)
        assert engine.check().ok and best(engine, "red")[0] == ids["red.png"]
    assert ids_by_name(settings) == ids


def corrupt_items_table(store: Path) -> None:
    """Scribble over the items table's root page, past its header: every row read still works."""
    database = store / "xmodal.db"
    with sqlite3.connect(database) as connection:
        page = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 'items'").fetchone()[0]
        size = connection.execute("PRAGMA page_size").fetchone()[0]
    connection.close()
    with open(database, "r+b") as handle:
        handle.seek((page - 1) * size + 8)
        handle.write(b"\xff" * (size - 8))


def test_a_corrupt_database_page_is_damage_naming_the_file(corpus: Path, settings: Settings, tmp_path: Path) -> None:
    indexed(corpus, settings)
    corrupt_items_table(settings.store)
    with pytest.raises(DatabaseDamaged, match=r"the metadata database .*xmodal\.db is damaged"):
        Engine(settings).check()
    result = xmodal("check", "--store", settings.store, cwd=tmp_path)
    assert result.returncode == 2 and "xmodal.db is damaged" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
