"""Opening files that hostile hands may have swapped: no link followed, regular files only, no hangs."""

from __future__ import annotations

import errno
import os
import stat

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer.
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class UnsafeFile(OSError):
    """The path leads through a symbolic link or to something that is not a regular file."""


def open_without_links(path: str) -> tuple[int, os.stat_result]:
    """Open an absolute path for reading, one component at a time with O_NOFOLLOW, so a link swapped
    in anywhere along it (even between a check and the open) is refused rather than followed.
    Returns the descriptor and its fstat; the caller closes it. Raises FileNotFoundError, UnsafeFile
    or another OSError."""
    if not os.path.isabs(path):
        raise ValueError(f"expected an absolute path, got {path!r}")
    *directories, name = [part for part in path.split("/") if part]
    handle = os.open("/", _DIRECTORY)
    try:
        for directory in directories:
            child = _open_at(handle, directory, _DIRECTORY)
            os.close(handle)
            handle = child
        opened = _open_at(handle, name, _FILE)
    finally:
        os.close(handle)
    try:
        info = os.fstat(opened)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"{path} is not a regular file")
    except BaseException:
        os.close(opened)
        raise
    return opened, info


def _open_at(parent: int, name: str, flags: int) -> int:
    try:
        return os.open(name, flags, dir_fd=parent)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeFile(f"{name!r} on the way is a symbolic link or not a directory") from None
        raise
