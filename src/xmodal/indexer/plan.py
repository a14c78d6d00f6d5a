"""The plan stage: what each source is to the store, as decisions the commit stage carries out.

Incremental rules: a file whose path, size and mtime match the store is unchanged, unread. Otherwise
its content hash decides: the same content as its own row is a touch; as another item whose file is
gone, a move; as another item still on disk, a duplicate path of it; as a new item waiting in this
job, a duplicate of that. Only content the store has never seen is embedded. Decisions are applied
as they are made, in source order, so every lookup here sees the ones before it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Union

from xmodal.indexer.decode import Hashed
from xmodal.indexer.embed import EmbedTask
from xmodal.indexer.sources import Skipped, Source, SourceProblem
from xmodal.store import Store
from xmodal.store.schema import EMBEDDED, INDEXED


@dataclass(frozen=True)
class Failed:
    where: str
    reason: str
    source: Source | None = None  # a file's failure is recorded in the store, with this


@dataclass(frozen=True)
class Unchanged:
    label: str


@dataclass(frozen=True)
class Relabelled:
    """An unchanged file whose manifest entry now gives it another id or other metadata (None: keep)."""

    item_id: int
    label: str
    external_id: str | None
    metadata: dict[str, Any] | None


@dataclass(frozen=True)
class Relocated:
    """The same item at this path: a touched file (moved=False) or a moved one."""

    item_id: int
    path: str
    size: int | None
    mtime: float | None
    moved: bool


@dataclass(frozen=True)
class Duplicate:
    """Another path of content the store has (`item_id`) or a new item of this job will have (`task`)."""

    path: str | None  # None: an inline text repeated in this job, counted only
    size: int | None
    mtime: float | None
    item_id: int | None = None
    original: str | None = None
    task: int | None = None


@dataclass(frozen=True)
class Replaced:
    """The row at a path whose content changed (or that failed before) goes; a decision for the new
    content follows."""

    item_id: int


@dataclass(frozen=True)
class New:
    task: EmbedTask
    content_hash: str
    size: int | None
    mtime: float | None


@dataclass(frozen=True)
class Gone:
    """A file under a pruned root that is no longer on disk; `heir` is a surviving duplicate path
    that takes its item over."""

    path: str
    item_id: int
    is_duplicate: bool
    heir: tuple[str, int | None, float | None] | None = None


Decision = Union[Failed, Unchanged, Relabelled, Relocated, Duplicate, Replaced, New, Gone, Skipped]


class Pending:
    """New content waiting for its vector: (hash, modality) -> task number. The plan adds; the commit
    stage removes what it wrote, from when on the store answers for it."""

    def __init__(self) -> None:
        self._tasks: dict[tuple[str, str], int] = {}

    def add(self, content_hash: str, modality: str, task: int) -> None:
        self._tasks[(content_hash, modality)] = task

    def get(self, content_hash: str, modality: str) -> int | None:
        return self._tasks.get((content_hash, modality))

    def done(self, content_hash: str, modality: str) -> None:
        self._tasks.pop((content_hash, modality), None)


class Plan:
    def __init__(
        self, store: Store, modalities: Iterable[str], refusal: Callable[[str], str], pending: Pending
    ) -> None:
        self.store = store
        self.modalities = tuple(modalities)  # what the encoder can embed
        self.refusal = refusal  # why it cannot embed another (the encoder says)
        self.pending = pending
        self.seen_paths: set[str] = set()
        self._external_ids: set[str] = set()
        self._tasks = 0

    def before_reading(self, source: Source | SourceProblem | Skipped) -> Decision | None:
        """What needs no reading (a problem, a modality the model lacks, an unchanged file); None: hash it."""
        if isinstance(source, Skipped):
            return source  # a note for the summary
        if isinstance(source, SourceProblem):
            return Failed(source.where, source.reason)
        if source.modality not in self.modalities:
            return Failed(source.label, self.refusal(source.modality), source)
        if not self._unchanged(source):
            return None
        return self._relabelled(source) or Unchanged(source.label)

    def _unchanged(self, source: Source) -> bool:
        if source.path is None:  # inline text: its hash is cheap, decided after hashing
            return source.external_id is not None and self.store.by_external_id(source.external_id) is not None
        self.seen_paths.add(source.path)
        try:
            stat = os.stat(source.path)
        except OSError:
            return False  # hashing reports why
        known = self.store.by_path(source.path) or self.store.duplicate_at(source.path)
        status = getattr(known, "status", INDEXED)  # a duplicate row has no status of its own
        return known is not None and (known.size, known.mtime) == (stat.st_size, stat.st_mtime) and status in EMBEDDED

    def _relabelled(self, source: Source) -> Decision | None:
        """A manifest entry may give an indexed file a new id or new metadata: the row takes them, the
        vector stays. An entry without them keeps what the row has (a folder walk gives none)."""
        if source.path is None or (source.external_id is None and not source.metadata):
            return None
        item = self.store.by_path(source.path)
        if item is None:  # a duplicate path: the labels are its item's own entry's
            return None
        external_id = source.external_id if source.external_id not in (None, item.external_id) else None
        metadata = source.metadata if source.metadata and source.metadata != item.meta else None
        if external_id is None and metadata is None:
            return None
        if external_id is not None:
            holder = self.store.by_external_id(external_id)
            if external_id in self._external_ids or (holder is not None and holder.id != item.id):
                return Failed(source.label, f"id {external_id!r} is another item's already: the file keeps its own")
            self._external_ids.add(external_id)
        return Relabelled(item.id, source.label, external_id, metadata)

    def after_hashing(self, hashed: Hashed) -> list[Decision]:
        source = hashed.source
        if hashed.error is not None:
            return [Failed(source.label, hashed.error, source)]
        previous = self.store.by_path(source.path) if source.path else None
        if previous is not None and previous.status in EMBEDDED and previous.content_hash == hashed.content_hash:
            return [Relocated(previous.id, source.path, hashed.size, hashed.mtime, moved=False)]  # type: ignore[arg-type]
        replaced: list[Decision] = [Replaced(previous.id)] if previous is not None else []
        return replaced + [self._content(hashed)]

    def _content(self, hashed: Hashed) -> Decision:
        source, key = hashed.source, (hashed.content_hash, hashed.source.modality)
        same = self.store.by_content(*key, single=True)  # a part belongs to its item: not a file's original
        if same is not None and source.path is None:
            return Unchanged(source.label)
        if same is not None and same.path is not None and not os.path.exists(same.path):
            return Relocated(same.id, source.path, hashed.size, hashed.mtime, moved=True)  # type: ignore[arg-type]
        if same is not None:
            return Duplicate(source.path, hashed.size, hashed.mtime, same.id, same.path or f"item {same.id}")
        waiting = self.pending.get(*key)
        if waiting is not None:
            return Duplicate(source.path, hashed.size, hashed.mtime, task=waiting)
        return self._new(hashed)

    def next_task(self) -> int:
        """The next task number of this job (items with parts number their parts' tasks here too)."""
        self._tasks += 1
        return self._tasks

    def _new(self, hashed: Hashed) -> Decision:
        source = hashed.source
        if source.external_id is not None:
            if source.external_id in self._external_ids:
                return Failed(source.label, f"id {source.external_id!r} is given to another entry of this job already")
            self._external_ids.add(source.external_id)
        task = self.next_task()
        self.pending.add(hashed.content_hash, source.modality, task)
        return New(EmbedTask(task, source), hashed.content_hash, hashed.size, hashed.mtime)

    def gone(self, roots: list[Path]) -> Iterator[Gone]:
        """Files the store knows under `roots` that this job did not see and the disk no longer has.
        Lazy: each is decided after the one before it was applied."""
        prefixes = tuple(os.path.join(str(root.resolve()), "") for root in roots if root.is_dir())
        for path, item_id, is_duplicate in self.store.file_paths():
            if not path.startswith(prefixes) or path in self.seen_paths or os.path.exists(path):
                continue
            heirs = [] if is_duplicate else [d for d in self.store.duplicates_of(item_id) if os.path.exists(d.path)]
            heir = (heirs[0].path, heirs[0].size, heirs[0].mtime) if heirs else None
            yield Gone(path, item_id, is_duplicate, heir)
