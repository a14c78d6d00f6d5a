"""A full disk is one line saying where and what to do, not a 260-line traceback (issue 8, minor):
whether SQLite finds the disk full or a vector file cannot be written."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from sqlalchemy import event

from tests.store.test_store import MODEL, unit_rows
from xmodal.files import NoSpace, atomic_write
from xmodal.store import Item, Store


def test_an_atomic_write_on_a_full_disk_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    def fill(_temporary: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(NoSpace, match=r"no space left on the device to write .*out\.bin: free some space"):
        atomic_write(tmp_path / "out.bin", fill)
    assert list(tmp_path.iterdir()) == []


def test_a_vector_file_that_cannot_be_written_for_space_is_no_space(tmp_path: Path, monkeypatch) -> None:
    store = Store.open(tmp_path, MODEL, writable=True)
    store.add([Item(modality="text", text="a", content_hash="a")], unit_rows(1))

    def full(*_args: object) -> None:  # how FAISS reports it
        raise RuntimeError("Error in faiss::FileIOWriter: 'ret == (n)' failed: write error: No space left on device")

    monkeypatch.setattr("faiss.write_index", full)
    with pytest.raises(NoSpace, match=r"text\.faiss"):
        store.save()


def test_a_full_database_is_no_space_naming_it(tmp_path: Path) -> None:
    store = Store.open(tmp_path, MODEL, writable=True)

    @event.listens_for(store.engine, "connect")
    def _tiny(connection, _record) -> None:  # the file may not grow: as on a full disk, SQLite says SQLITE_FULL
        connection.execute("PRAGMA max_page_count = 1")

    store.engine.dispose()  # new connections get the limit
    with pytest.raises(NoSpace, match=r"the metadata database .*xmodal\.db"):
        for start in range(0, 4000, 200):
            numbers = range(start, start + 200)
            store.add([Item(modality="text", text=f"{n}" * 100, content_hash=str(n)) for n in numbers], unit_rows(200))
