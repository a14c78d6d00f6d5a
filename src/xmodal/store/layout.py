"""A store directory as it looks from outside, recognised without opening it: an index job walking
a folder must never index a store, its own (thumbnails, waveforms) or any other it finds there."""

from __future__ import annotations

from pathlib import Path

from xmodal.store.database import DATABASE_NAME
from xmodal.store.lock import LOCK_NAME

VECTORS_FOLDER = "vectors"


def is_store_directory(directory: Path) -> bool:
    """The metadata database beside the writer lock or the vector files (a store whose database is
    elsewhere, at a database URL, still has the other two)."""
    database = (directory / DATABASE_NAME).is_file()
    lock = (directory / LOCK_NAME).is_file()
    vectors = (directory / VECTORS_FOLDER).is_dir()
    return (database and (lock or vectors)) or (lock and vectors)
