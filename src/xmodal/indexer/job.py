"""An index job in three stages: plan (what each source is to the store) -> embed (decode + encode,
behind a runner: inline, worker processes, or a cluster) -> commit (the single crash-safe writer).

Incremental: a file whose path, size and mtime match the store is skipped unread; otherwise its
content hash decides: the same content as a stored item is a touch, a move or a duplicate, never
a second embedding. Crash-safe: rows commit per batch, index files are saved at checkpoints, and a
writer's open repairs whatever a kill left between the two (see `Store`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

from xmodal.config import Settings
from xmodal.encoders import Encoder
from xmodal.indexer.commit import Commit
from xmodal.indexer.embed import EmbedRunner, EmbedTask, local_runner
from xmodal.indexer.parts import ItemChange, PartsPlan
from xmodal.indexer.plan import New, Pending, Plan
from xmodal.indexer.sources import ItemSource, Skipped, Source, SourceProblem
from xmodal.indexer.summary import JobProgress, JobSummary
from xmodal.modalities import Limits
from xmodal.store import Store

__all__ = ["IndexJob", "JobProgress", "JobSummary"]


class IndexJob:
    def __init__(
        self, store: Store, encoder: Encoder, settings: Settings, on_item: Callable[[str], None] | None = None,
        runner: EmbedRunner | None = None,
    ) -> None:
        """`runner` embeds the new items; by default this machine's (inline, or `settings.workers` decoders)."""
        self.store = store
        self.encoder = encoder
        self.settings = settings
        self.on_item = on_item or (lambda label: None)
        self.summary = JobSummary()
        self.runner = runner

    def run(
        self, sources: Iterable[Source | ItemSource | SourceProblem | Skipped], prune_under: list[Path] | None = None
    ) -> JobSummary:
        started = time.perf_counter()
        pending = Pending()
        plan = Plan(self.store, self.encoder.info.modalities, self.encoder.refusal, pending)
        modalities, refusal = self.encoder.info.modalities, self.encoder.refusal
        parts = PartsPlan(self.store, modalities, refusal, plan.next_task, plan.seen_paths)
        commit = Commit(self.store, self.summary, pending, self.settings.checkpoint_seconds, self.on_item)
        runner = self.runner or self._local_runner()
        try:
            for batch in runner.embed(self._tasks(sources, plan, parts, commit, runner)):
                commit.embedded(batch)
        finally:
            if self.runner is None:  # a runner given to the job belongs to whoever gave it
                runner.close()
        plan.seen_paths |= parts.seen_paths
        for gone in plan.gone(prune_under) if prune_under else ():
            commit.apply(gone)
        commit.finish(self.settings.index_type)
        self.summary.elapsed = time.perf_counter() - started
        return self.summary

    def _tasks(
        self,
        sources: Iterable[Source | ItemSource | SourceProblem | Skipped],
        plan: Plan,
        parts: PartsPlan,
        commit: Commit,
        runner: EmbedRunner,
    ) -> Iterator[EmbedTask]:
        """The new items (and new parts of items with parts, after the single files), for the runner to
        pull; every other decision is applied on the way."""
        items: list[ItemSource] = []

        def unread() -> Iterator[Source]:
            for source in sources:
                if isinstance(source, ItemSource):
                    items.append(source)
                    continue
                decision = plan.before_reading(source)
                if decision is None:
                    yield source  # type: ignore[misc]
                else:
                    commit.apply(decision)

        for hashed in runner.hash(unread()):
            for decision in plan.after_hashing(hashed):
                commit.apply(decision)
                if isinstance(decision, New):
                    yield decision.task
        for item in items:
            for change in parts.decide(item):
                commit.apply(change)  # type: ignore[arg-type]
                if isinstance(change, ItemChange):
                    yield from (part.task for part in change.new if part.task is not None)

    def _local_runner(self) -> EmbedRunner:
        settings = self.settings
        limits = Limits.for_indexing(settings, self.encoder.image_input_side)
        return local_runner(self.encoder, limits, settings.batch_size, settings.workers)
