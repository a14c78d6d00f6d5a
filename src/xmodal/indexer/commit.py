"""The commit stage: the job's single writer. It carries out the plan's decisions as they come and
writes embedded batches (rows and vectors together), saves the vector files at checkpoints, and keeps
the job's summary. Crash-safe with the store: rows commit per batch, vector files are saved every
`checkpoint_seconds`, and a writer's next open repairs whatever a kill left between the two.
"""

from __future__ import annotations

import os
import time
from typing import Callable

import numpy as np

from xmodal.indexer.embed import Embedded
from xmodal.indexer.parts import ItemChange, PartFailed
from xmodal.indexer.plan import (
    Decision,
    Duplicate,
    Failed,
    Gone,
    New,
    Pending,
    Relabelled,
    Relocated,
    Replaced,
    Unchanged,
)
from xmodal.indexer.sources import Skipped, Source
from xmodal.indexer.summary import JobSummary
from xmodal.store import Item, Store
from xmodal.store.parts import ItemWrite


class Commit:
    def __init__(
        self,
        store: Store,
        summary: JobSummary,
        pending: Pending,
        checkpoint_seconds: float,
        on_item: Callable[[str], None],
    ) -> None:
        self.store = store
        self.summary = summary
        self.pending = pending
        self.checkpoint_seconds = checkpoint_seconds
        self.on_item = on_item  # called once per source, when it is settled
        self._new: dict[int, New] = {}  # task -> what the plan knew of it, until its vector comes
        self._waiting: dict[int, list[Duplicate]] = {}  # task -> duplicate paths waiting for its item id
        self._failed: dict[
            int, tuple[str, str]
        ] = {}  # task -> (why it has no item, modality): its duplicates fail alike
        self._items: dict[int, ItemChange] = {}  # part task -> its item's change, until every part has a vector
        self._part_vectors: dict[int, Embedded] = {}  # part task -> its vector and text, until its item is written
        self._last_checkpoint = time.monotonic()

    def apply(self, decision: Decision | ItemChange | PartFailed) -> None:
        {
            Failed: self._fail,
            Unchanged: self._unchanged,
            Relabelled: self._relabel,
            Relocated: self._relocate,
            Duplicate: self._duplicate,
            Replaced: self._replace,
            New: self._queue,
            Gone: self._forget,
            Skipped: self._note,
            ItemChange: self._change_item,
            PartFailed: self._part_failed,
        }[type(decision)](decision)  # type: ignore[operator]
        self.checkpoint_if_due()

    def _fail(self, decision: Failed) -> None:
        self.summary.failed += 1
        self.summary.failures.append((decision.where, decision.reason))
        source = decision.source
        if source is not None and source.path is not None:
            self.store.add_failed([_failed_row(source, decision.reason)])
        self.on_item(decision.where)

    def _note(self, decision: Skipped) -> None:
        self.summary.skipped.append((decision.where, decision.reason))  # a folder or a link, not a source: no on_item

    def _unchanged(self, decision: Unchanged) -> None:
        self.summary.unchanged += 1
        self.on_item(decision.label)

    def _relabel(self, decision: Relabelled) -> None:
        self.store.relabel(decision.item_id, decision.external_id, decision.metadata)
        self.summary.updated += 1
        self.on_item(decision.label)

    def _relocate(self, decision: Relocated) -> None:
        self.store.relocate(decision.item_id, decision.path, decision.size, decision.mtime)
        if decision.moved:
            self.summary.moved += 1
        else:
            self.summary.unchanged += 1
        self.on_item(decision.path)

    def _duplicate(self, decision: Duplicate) -> None:
        if decision.path is None:  # an inline text given twice: nothing to record
            self.summary.duplicates += 1
        elif decision.task is None:
            self._record_duplicate(decision, decision.item_id, decision.original)  # type: ignore[arg-type]
        elif decision.task in self._failed:
            reason, modality = self._failed[decision.task]
            self._fail(Failed(decision.path, reason, Source(modality, decision.path)))
            return
        else:
            self._waiting.setdefault(decision.task, []).append(decision)
        self.on_item(decision.path or "text")

    def _record_duplicate(self, decision: Duplicate, item_id: int, original: str) -> None:
        self.store.add_duplicate(decision.path, item_id, decision.size, decision.mtime)  # type: ignore[arg-type]
        self.summary.duplicates += 1
        self.summary.duplicate_paths.append((decision.path, original))  # type: ignore[arg-type]

    def _replace(self, decision: Replaced) -> None:
        self.store.remove([decision.item_id])

    def _queue(self, decision: New) -> None:
        self._new[decision.task.key] = decision

    def _forget(self, decision: Gone) -> None:
        self.summary.pruned += 1
        if decision.is_duplicate:
            self.store.remove_duplicates([decision.path])
        elif decision.heir is not None:
            self.store.relocate(decision.item_id, *decision.heir)  # a surviving duplicate takes the item over
        else:
            self.store.remove([decision.item_id])

    def _part_failed(self, decision: PartFailed) -> None:
        """Counted and reported; the item is one source, settled (on_item) when it is written."""
        self.summary.failed += 1
        self.summary.failures.append((decision.where, decision.reason))

    def _change_item(self, change: ItemChange) -> None:
        if change.replaced is not None:
            self.store.remove([change.replaced])  # a single-file item had the id: the item with parts takes it
        waiting = [part.task.key for part in change.new if part.task is not None]
        if not waiting:
            self._write_item(change)
        for key in waiting:
            self._items[key] = change

    def _part_embedded(self, result: Embedded) -> None:
        change = self._items.pop(result.task.key)
        if result.error is not None:
            self._part_failed(PartFailed(result.task.source.label, result.error))  # the item goes on without it
        self._part_vectors[result.task.key] = result
        if not any(part.task is not None and part.task.key in self._items for part in change.new):
            self._write_item(change)

    def _write_item(self, change: ItemChange) -> None:
        """All of an item's new parts have vectors (or failed): write the item, its parts and fused vector."""
        new = []
        for part in change.new:
            if part.task is None:  # a copy of stored content
                vector, text = part.vector, part.text
            else:
                embedded = self._part_vectors.pop(part.task.key)
                vector, text = embedded.vector, embedded.text
            if vector is not None:
                source = part.source
                row = Item(modality=source.modality, path=None if source.piece else source.path, text=text)
                row.content_hash, row.size, row.mtime = part.content_hash, part.size, part.mtime
                row.piece = source.piece
                new.append((row, vector))
        if not new and not change.kept:
            self._fail(Failed(change.item.label, "none of its parts could be embedded"))
            return
        item = change.item
        write = ItemWrite(item.external_id, item.metadata, change.parent_id, change.kept, change.removed, new)
        write.file, write.file_hash = change.file, change.file_hash
        self.store.write_item(write)
        self.summary.indexed += 1
        self.on_item(item.label)
        self.checkpoint_if_due()

    def embedded(self, batch: list[Embedded]) -> None:
        """Write a batch's items and vectors in one transaction; record what failed."""
        parts = {result.task.key for result in batch if result.task.key in self._items}
        for result in batch:
            if result.task.key in parts:
                self._part_embedded(result)
        batch = [result for result in batch if result.task.key not in parts]
        done = [result for result in batch if result.error is None]
        rows = [self._row(result) for result in done]
        if rows:
            self.store.add(rows, np.stack([result.vector for result in done]))  # type: ignore[misc]
            self.summary.indexed += len(rows)
        for result, row in zip(done, rows):
            new = self._new.pop(result.task.key)
            self.pending.done(new.content_hash, result.task.source.modality)
            for duplicate in self._waiting.pop(result.task.key, []):
                self._record_duplicate(duplicate, row.id, row.path or f"item {row.id}")
            self.on_item(result.task.source.label)
        for result in batch:
            if result.error is not None:
                self._fail_new(result)
        self.checkpoint_if_due()

    def _fail_new(self, result: Embedded) -> None:
        self._new.pop(result.task.key, None)
        self._failed[result.task.key] = (result.error, result.task.source.modality)  # type: ignore[assignment]
        self._fail(Failed(result.task.source.label, result.error, result.task.source))  # type: ignore[arg-type]
        for duplicate in self._waiting.pop(result.task.key, []):
            self._fail(Failed(duplicate.path, result.error, Source(result.task.source.modality, duplicate.path)))  # type: ignore[arg-type]

    def _row(self, result: Embedded) -> Item:
        new, source = self._new[result.task.key], result.task.source
        return Item(
            external_id=source.external_id,
            modality=source.modality,
            path=source.path,
            text=result.text,
            content_hash=new.content_hash,
            size=new.size,
            mtime=new.mtime,
            meta=source.metadata,  # pending until the store saves its vector (Store.add)
        )

    def checkpoint_if_due(self) -> None:
        if time.monotonic() - self._last_checkpoint >= self.checkpoint_seconds:
            self.store.save()
            self._last_checkpoint = time.monotonic()

    def finish(self, index_type: str) -> None:
        """Give each index the layout its size calls for, tuned, and save everything."""
        self.store.optimize(index_type)


def _failed_row(source: Source, reason: str) -> Item:
    item = Item(modality=source.modality, path=source.path, external_id=source.external_id, meta=source.metadata)
    item.status, item.error = "failed", reason
    try:
        stat = os.stat(source.path)  # type: ignore[arg-type]
        item.size, item.mtime = stat.st_size, stat.st_mtime
    except OSError:
        pass
    return item
