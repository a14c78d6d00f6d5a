"""Issue 8 #7: a row is searchable only once its vector is saved. Rows a writer adds are pending
(invisible to readers) until the save that writes their vectors; a crash between the two keeps the
ids whose vectors landed and drops only rows no reader ever saw."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.fakes import FakeEncoder
from tests.store.test_store import MODEL, unit_rows, writer
from xmodal.config import Settings
from xmodal.engine import Engine
from xmodal.errors import NotFound
from xmodal.search import Part, Query
from xmodal.store import Item, Store
from xmodal.store.schema import Item as ItemRow


def searchable_without_vector(reader: Store) -> list[int]:
    rows = [item for item in reader.get(range(1, 100)).values() if item.status == "indexed"]
    return [item.id for item in rows if item.id not in set(reader.vectors(item.modality).ids().tolist())]


def test_a_reader_never_sees_a_row_without_its_vector_as_searchable(tmp_path: Path, database_url) -> None:
    store = writer(tmp_path, database_url)
    store.add([ItemRow(modality="text", text=t, content_hash=t) for t in "ab"], unit_rows(2))
    reader = Store.open(tmp_path, database_url=database_url)
    assert searchable_without_vector(reader) == []
    assert reader.counts() == {"text": {"pending": 2}} and reader.keyword_search(["a"]) == []
    store.save()
    assert searchable_without_vector(reader) == [] and reader.counts() == {"text": {"indexed": 2}}
    store.close()


def test_more_like_an_item_whose_vector_is_not_saved_yet_is_not_found(tmp_path: Path) -> None:
    settings = Settings(store=tmp_path / "store")
    store = Store.open(settings.store, FakeEncoder().info.identity(), writable=True)
    store.add([ItemRow(modality="text", text="red", content_hash="red", external_id="doc")], unit_rows(1))
    with Engine(settings, encoder=FakeEncoder()) as reader:  # a server while a job runs
        with pytest.raises(NotFound):
            reader.search(Query([Part(item="doc")]))
        store.save()
        assert reader.search(Query([Part(item="doc")])).hits == []  # the only item: itself is left out
    store.close()


KILLED_AFTER_VECTORS = textwrap.dedent("""
    import os, sys
    import numpy as np
    from xmodal.store import Item, Store
    store = Store.open(sys.argv[1], {"spec": "fake", "version": "1", "dim": 16}, writable=True)
    store.add([Item(modality="text", text=t, content_hash=t) for t in "ab"], np.eye(16, dtype=np.float32)[:2])
    store.vectors("text").save()  # the vector files are written ...
    store.add([Item(modality="text", text="c", content_hash="c")], np.eye(16, dtype=np.float32)[2:3])
    os._exit(0)  # ... and the process dies before the rows are marked searchable
""")


def test_a_crash_after_the_vector_save_keeps_the_ids(tmp_path: Path) -> None:
    writer(tmp_path).close()
    subprocess.run([sys.executable, "-c", KILLED_AFTER_VECTORS, str(tmp_path)], check=True, timeout=120)
    reader = Store.open(tmp_path)
    assert searchable_without_vector(reader) == []  # before any repair, too
    repaired = Store.open(tmp_path, MODEL, writable=True)
    items = repaired.get(range(1, 10))
    assert {item.id: (item.text, item.status) for item in items.values()} == {1: ("a", "indexed"), 2: ("b", "indexed")}
    assert repaired.verify() == []
    repaired.close()


def test_items_added_through_the_store_api_are_searchable_after_close(tmp_path: Path) -> None:
    store = writer(tmp_path)
    store.add([Item(modality="text", text="a", content_hash="a")], unit_rows(1))
    store.close()
    assert Store.open(tmp_path).counts() == {"text": {"indexed": 1}}


def test_a_damaged_vector_file_is_one_clear_error(tmp_path: Path) -> None:
    """Issue 8 #8 (in part): a truncated FAISS file is a StoreDamaged naming the file, not a traceback."""
    from xmodal.errors import Unavailable

    store = writer(tmp_path)
    store.add([ItemRow(modality="text", text="a", content_hash="a")], unit_rows(1))
    store.close()
    damaged = tmp_path / "vectors" / "text.faiss"
    damaged.write_bytes(damaged.read_bytes()[:40])
    reader = Store.open(tmp_path)
    with pytest.raises(Unavailable, match="cannot read the text vector index.*text.faiss") as caught:
        reader.vectors("text")
    assert "\n" not in str(caught.value)
