"""One writer per store: an exclusive lock file that dies with its process."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from xmodal.store.records import StoreError

LOCK_NAME = "writer.lock"
_LOCKED_HERE: set[Path] = set()  # POSIX locks are per process: a second writer in this one is caught here


class WriterLock:
    """An exclusive POSIX record lock on `writer.lock`. Unlike flock, it is not inherited by
    forked decoder processes, and the OS drops it the moment its process dies (kill -9 included)."""

    def __init__(self, directory: Path) -> None:
        self.key = directory.resolve()
        if self.key in _LOCKED_HERE:
            raise StoreError(
                f"store {directory} is being written by process {os.getpid()} (this one); close that store first"
            )
        self.handle = open(directory / LOCK_NAME, "a+")
        try:
            fcntl.lockf(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another process"
            self.handle.close()
            raise StoreError(f"store {directory} is being written by {holder}; wait for that job to finish") from None
        _LOCKED_HERE.add(self.key)
        self.handle.truncate(0)
        self.handle.write(f"process {os.getpid()}")
        self.handle.flush()

    def close(self) -> None:
        _LOCKED_HERE.discard(self.key)
        self.handle.close()
