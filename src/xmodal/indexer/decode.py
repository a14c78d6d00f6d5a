"""Reading files: their content hash (what the plan decides by) and their decoded media (what the
encoder takes). Failures come back as reasons, never as exceptions: a bad file must not stop a job.
Both run wherever a runner puts them (inline, forked worker processes, a cluster), so they take and
return plain, picklable values."""

from __future__ import annotations

import ctypes
import hashlib
import multiprocessing
import os
import signal
import sys
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterable, Iterator, TypeVar

from xmodal import modalities
from xmodal.encoders.media import MediaError
from xmodal.files import open_regular
from xmodal.indexer.sources import Source
from xmodal.modalities import Limits

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(frozen=True)
class Hashed:
    source: Source
    content_hash: str
    size: int | None = None
    mtime: float | None = None
    error: str | None = None  # the file could not be read


def hash_source(source: Source) -> Hashed:
    """SHA-256 of a file's bytes (or of an inline text), with the file's size and mtime."""
    if source.path is None:
        return Hashed(source, hashlib.sha256((source.text or "").encode()).hexdigest())
    try:
        with open_source(source.path) as handle:
            stat = os.fstat(handle.fileno())
            digest = file_hash(handle)
            return Hashed(source, piece_hash(digest, source.piece), stat.st_size, stat.st_mtime)
    except OSError as error:
        return Hashed(source, "", error=f"cannot read: {error.strerror or error}")


def piece_hash(file_digest: str, piece: str | None) -> str:
    """A piece's content hash: its file's, with the piece's name (the whole file: the file's own)."""
    return file_digest if piece is None else hashlib.sha256(f"{file_digest}:{piece}".encode()).hexdigest()


def decode(source: Source, limits: Limits) -> tuple[object, str | None]:
    """(decoded media, None) or (None, the reason it cannot be used)."""
    if source.path is None:
        return source.text, None
    try:
        with open_source(source.path) as handle:
            if source.piece is not None:
                return _load_piece(source, handle, limits), None
            return modalities.get(source.modality).load(handle, limits), None
    except MediaError as error:
        return None, str(error)
    except OSError as error:
        return None, f"cannot read: {error.strerror or error}"


def _load_piece(source: Source, handle: BinaryIO, limits: Limits) -> object:
    container = modalities.for_path(source.path)  # type: ignore[arg-type]
    if container is None or container.load_piece is None:
        raise MediaError(f"xmodal reads no pieces of this kind of file (asked for {source.piece!r})")
    return container.load_piece(handle, source.piece, limits)  # type: ignore[arg-type]


def open_source(path: str) -> BinaryIO:
    """Sources hold resolved paths: a link found on the way now was swapped in after the walk, and a
    FIFO or device would block the job (and its writer lock) or never end. Both are refused."""
    return open_regular(path, follow_links=False)


def file_hash(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def decoder_pool(workers: int) -> Executor:
    """`workers` forked processes (they need no torch and start instantly); 0: one thread of this process.

    The thread reads and decodes the next files while this one encodes (Pillow and the audio decoders
    release the GIL): on 2 cores, where a decoder process only competes with the encoder, it indexes
    JPEG photos 1.1x faster than decoding inline (`bench/index_pipeline.py`)."""
    if workers <= 0:
        return ThreadPoolExecutor(1, thread_name_prefix="xmodal-decode")
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("fork"), initializer=_die_with_parent
    )


def _die_with_parent() -> None:
    """A killed job must not leave decoders behind (they would wait for work forever)."""
    if sys.platform == "linux":
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before the line above
            os._exit(1)


def ordered_map(
    pool: Executor | None, function: Callable[[In], Out], items: Iterable[In], window: int
) -> Iterator[Out]:
    """`map` with at most `window` items in flight, results in input order."""
    if pool is None:
        yield from map(function, items)
        return
    pending: deque[Future] = deque()
    for item in items:
        pending.append(pool.submit(function, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
