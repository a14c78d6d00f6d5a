"""An index job: sources -> (worker processes) hashed, decoded media -> batched embeddings -> store.

Incremental: a file whose path, size and mtime match the store is skipped unread; otherwise its
content hash decides: the same content as a stored item is a touch, a move or a duplicate, never
a second embedding. Crash-safe: rows commit per batch, index files are saved at checkpoints, and a
writer's open repairs whatever a kill left between the two (see `Store`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator

from xmodal.config import Settings
from xmodal.encoders import Encoder
from xmodal.indexer.decode import Decoded, Limits, decode, decoder_pool, ordered_map
from xmodal.indexer.sources import Source, SourceProblem
from xmodal.store import Item, Store


@dataclass
class JobSummary:
    indexed: int = 0
    unchanged: int = 0
    moved: int = 0
    duplicates: int = 0
    pruned: int = 0
    failed: int = 0
    elapsed: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    duplicate_paths: list[tuple[str, str]] = field(default_factory=list)  # (path, the path whose content it repeats)

    @property
    def items_per_second(self) -> float:
        seen = self.indexed + self.unchanged + self.moved + self.duplicates + self.failed
        return seen / self.elapsed if self.elapsed else 0.0


@dataclass
class JobProgress:
    total: int  # sources to settle
    processed: int = 0
    summary: JobSummary = field(default_factory=JobSummary)


class IndexJob:
    def __init__(self, store: Store, encoder: Encoder, settings: Settings, on_item: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.encoder = encoder
        self.settings = settings
        self.on_item = on_item or (lambda label: None)
        self.summary = JobSummary()
        self.limits = Limits.for_indexing(settings)
        self._queues: dict[str, list[tuple[Item, object]]] = {}
        self._queued: dict[tuple[str, str], Item] = {}  # (hash, modality) -> item waiting for its batch
        self._queued_duplicates: list[tuple[str, int | None, float | None, Item]] = []
        self._seen_paths: set[str] = set()
        self._external_ids: set[str] = set()
        self._last_checkpoint = time.monotonic()

    def run(self, sources: Iterable[Source | SourceProblem], prune_under: list[Path] | None = None) -> JobSummary:
        started = time.perf_counter()
        pool = decoder_pool(self.settings.workers)
        window = max(2, self.settings.workers) * self.settings.batch_size * 2
        try:
            for decoded in ordered_map(pool, partial(decode, limits=self.limits), self._needs_reading(sources), window):
                self._take(decoded)
                self.on_item(decoded.source.label)
                self._checkpoint_if_due()
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        for modality in list(self._queues):
            self._flush(modality)
        if prune_under:
            self._prune(prune_under)
        self.store.optimize(self.settings.index_type)
        self.summary.elapsed = time.perf_counter() - started
        return self.summary

    def _needs_reading(self, sources: Iterable[Source | SourceProblem]) -> Iterator[Source]:
        """Settle what needs no reading here, in the main process; yield the rest to the decoders."""
        for source in sources:
            if isinstance(source, SourceProblem):
                self._fail(source.where, source.reason)
            elif source.modality not in self.encoder.info.modalities:
                self._fail(source.label, self.encoder.refusal(source.modality), source)
            elif self._unchanged(source):
                self.summary.unchanged += 1
            else:
                yield source
                continue
            self.on_item(getattr(source, "label", getattr(source, "where", "")))

    def _unchanged(self, source: Source) -> bool:
        if source.path is None:
            if source.external_id is not None and self.store.by_external_id(source.external_id) is not None:
                return True
            return False  # inline text: its hash is cheap, decided in _take
        self._seen_paths.add(source.path)
        try:
            stat = os.stat(source.path)
        except OSError:
            return False  # the decoder reports why
        known = self.store.by_path(source.path) or self.store.duplicate_at(source.path)
        return known is not None and (known.size, known.mtime) == (stat.st_size, stat.st_mtime) and getattr(known, "status", "indexed") == "indexed"

    def _take(self, decoded: Decoded) -> None:
        source = decoded.source
        if decoded.error is not None:
            self._fail(source.label, decoded.error, source)
            return
        key = (decoded.content_hash, source.modality)
        previous = self.store.by_path(source.path) if source.path else None
        if previous is not None and previous.status == "indexed" and previous.content_hash == decoded.content_hash:
            self.store.relocate(previous.id, source.path, decoded.size, decoded.mtime)  # touched, not changed
            self.summary.unchanged += 1
            return
        if previous is not None:
            self.store.remove([previous.id])  # changed content (or failed before): index it afresh
        same = self.store.by_content(*key)
        if same is not None:
            self._same_content(decoded, same)
        elif key in self._queued:
            if source.path is not None:
                self._queued_duplicates.append((source.path, decoded.size, decoded.mtime, self._queued[key]))
            self.summary.duplicates += 1
        else:
            self._queue(decoded)

    def _same_content(self, decoded: Decoded, same: Item) -> None:
        """Content the store holds already: the item moved here, or this is a duplicate of it."""
        path = decoded.source.path
        if path is None:
            self.summary.unchanged += 1
        elif same.path is not None and not os.path.exists(same.path):
            self.store.relocate(same.id, path, decoded.size, decoded.mtime)
            self.summary.moved += 1
        else:
            self.store.add_duplicate(path, same.id, decoded.size, decoded.mtime)
            self.summary.duplicates += 1
            self.summary.duplicate_paths.append((path, same.path or f"item {same.id}"))

    def _queue(self, decoded: Decoded) -> None:
        source = decoded.source
        if source.external_id is not None:
            if source.external_id in self._external_ids:
                self._fail(source.label, f"id {source.external_id!r} is given to another entry of this job already")
                return
            self._external_ids.add(source.external_id)
        item = Item(
            external_id=source.external_id, modality=source.modality, path=source.path,
            text=decoded.media if source.modality == "text" else None, content_hash=decoded.content_hash,
            size=decoded.size, mtime=decoded.mtime, meta=source.metadata, status="indexed",
        )
        self._queued[(decoded.content_hash, source.modality)] = item
        queue = self._queues.setdefault(source.modality, [])
        queue.append((item, decoded.media))
        if len(queue) >= self.settings.batch_size:
            self._flush(source.modality)

    def _flush(self, modality: str) -> None:
        batch = self._queues.pop(modality, [])
        if not batch:
            return
        try:
            vectors = self.encoder.encode(modality, [media for _, media in batch])  # type: ignore[arg-type]
        except Exception as error:  # noqa: BLE001 - one bad input must not sink the batch: retry one by one
            if len(batch) == 1:
                self._fail(batch[0][0].path or "text", f"the encoder failed on it: {error}", item=batch[0][0])
                return
            for entry in batch:
                self._queues[modality] = [entry]
                self._flush(modality)
            return
        self.store.add([item for item, _ in batch], vectors)
        self.summary.indexed += len(batch)
        for item, _ in batch:
            self._queued.pop((item.content_hash or "", modality), None)
        self._record_queued_duplicates()

    def _record_queued_duplicates(self) -> None:
        waiting = []
        for path, size, mtime, item in self._queued_duplicates:
            if item.id is None:
                waiting.append((path, size, mtime, item))
            else:
                self.store.add_duplicate(path, item.id, size, mtime)
                self.summary.duplicate_paths.append((path, item.path or f"item {item.id}"))
        self._queued_duplicates = waiting

    def _prune(self, roots: list[Path]) -> None:
        """Forget files under `roots` that are gone from disk; a surviving duplicate takes over an item."""
        prefixes = tuple(os.path.join(str(root.resolve()), "") for root in roots if root.is_dir())
        for path, item_id, is_duplicate in self.store.file_paths():
            if not path.startswith(prefixes) or path in self._seen_paths or os.path.exists(path):
                continue
            self.summary.pruned += 1
            if is_duplicate:
                self.store.remove_duplicates([path])
                continue
            heirs = [duplicate for duplicate in self.store.duplicates_of(item_id) if os.path.exists(duplicate.path)]
            if heirs:
                self.store.relocate(item_id, heirs[0].path, heirs[0].size, heirs[0].mtime)
            else:
                self.store.remove([item_id])

    def _checkpoint_if_due(self) -> None:
        if time.monotonic() - self._last_checkpoint >= self.settings.checkpoint_seconds:
            self.store.save()
            self._last_checkpoint = time.monotonic()

    def _fail(self, where: str, reason: str, source: Source | None = None, item: Item | None = None) -> None:
        self.summary.failed += 1
        self.summary.failures.append((where, reason))
        if item is None and source is not None and source.path is not None:
            item = Item(modality=source.modality, path=source.path, external_id=source.external_id, meta=source.metadata)
        if item is not None and item.path is not None:
            item.status, item.error = "failed", reason
            try:
                stat = os.stat(item.path)
                item.size, item.mtime = stat.st_size, stat.st_mtime
            except OSError:
                pass
            self.store.add_failed([item])
