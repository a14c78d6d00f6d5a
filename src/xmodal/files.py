"""Files done carefully: opening what hostile hands may have swapped (no link followed, regular files
only, no hangs), and writing whole files atomically."""

from __future__ import annotations

import errno
import os
import stat
import uuid
from pathlib import Path
from typing import BinaryIO, Callable

from xmodal.errors import Unavailable

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer.
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class NoSpace(Unavailable):
    """A disk (or quota) is full: one line saying where, instead of the writer's traceback."""


def no_space(where: object) -> NoSpace:
    return NoSpace(f"no space left on the device to write {where}: free some space and run the same command "
                   "again (what was saved before is kept)")


def is_no_space(error: BaseException) -> bool:
    """An OSError for a full disk or quota, or a library's error that says so (FAISS: a RuntimeError)."""
    if isinstance(error, OSError) and error.errno in NO_SPACE:
        return True
    return isinstance(error, RuntimeError) and any(os.strerror(code) in str(error) for code in NO_SPACE)


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
            raise _not_regular(path)
    except BaseException:
        os.close(opened)
        raise
    return opened, info


def open_regular(path: str | os.PathLike[str], follow_links: bool = True) -> BinaryIO:
    """A regular file opened for reading. A FIFO, device or socket is refused without blocking (a FIFO
    would wait for a writer forever, /dev/zero never ends). With `follow_links=False` the path must be
    absolute and no link anywhere on it is followed (see open_without_links)."""
    if follow_links:
        descriptor = os.open(path, _FILE & ~os.O_NOFOLLOW)
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise _not_regular(os.fspath(path))
        except BaseException:
            os.close(descriptor)
            raise
    else:
        descriptor, _ = open_without_links(os.fspath(path))
    handle = os.fdopen(descriptor, "rb")
    handle.raw.name = os.fspath(path)  # type: ignore[misc] - decoders and messages name the file, not its number
    return handle


def _not_regular(path: str) -> UnsafeFile:
    return UnsafeFile(f"{path} is not a regular file (a FIFO, device or socket): not read")


def _open_at(parent: int, name: str, flags: int) -> int:
    try:
        return os.open(name, flags, dir_fd=parent)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeFile(f"{name!r} on the way is a symbolic link or not a directory") from None
        raise


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write a file whole or not at all: `write(temporary)` fills a new file next to `path`, which is
    synced to disk and renamed over it (the directory entry synced too). Readers and a crash see the
    old file or the new one, never half; concurrent writers each write whole files (unique names).
    Leftovers of a crash end in `.tmp`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666))  # the umask's mode
    try:
        write(temporary)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if is_no_space(error):
            raise no_space(path) from None
        raise
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)
