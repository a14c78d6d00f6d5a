"""The Engine: one store, its model, a searcher and index jobs, opened once from the settings.

Both entry points stand on it: the CLI makes one per command, the API one per app (its lifespan).
Neither reaches below it. The store opens on first use (read-only; jobs and deletes take the writer
lock for their duration), the model when a search or a job first needs it, so `info`, `check` and
`/health` never load a model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from xmodal import modalities
from xmodal.config import DEFAULT_MODEL, Settings
from xmodal.errors import Conflict, Invalid, NotFound
from xmodal.store import Item, Store, describe_model

DELETE_WAIT_SECONDS = 10.0  # how long a delete waits for the deletes before it in this process

if TYPE_CHECKING:
    from xmodal.encoders import Encoder
    from xmodal.indexer import JobProgress, JobSummary, Source
    from xmodal.indexer.restore import Restored
    from xmodal.search import BatchQuery, Hit, Page, Query, Searcher


@dataclass
class CheckReport:
    found: list[str]  # disagreements before any repair
    repaired: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)
    items: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.remaining


class Engine:
    def __init__(self, settings: Settings, store: Store | None = None, encoder: Encoder | None = None) -> None:
        """`store` and `encoder` may be given ready (tests); otherwise they open when first needed."""
        self.settings = settings
        self._store = store
        self._encoder = encoder
        self._searcher: Searcher | None = None
        self._loading = threading.Lock()  # the API's threads may all want the model first
        self._deleting = threading.Lock()  # one writer per process: deletes queue here instead of failing
        self._batch_queries = False  # concurrent query encodes share forwards (encoders/batching.py)
        self._batcher = None

    @classmethod
    def open(cls, settings: Settings, encoder: Encoder | None = None) -> "Engine":
        """An engine over an existing store (a missing one is a clear error now, not at the first query)."""
        engine = cls(settings, encoder=encoder)
        engine.store  # noqa: B018 - opens it
        return engine

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store, self._searcher = None, None
        if self._batcher is not None:
            self._batcher.close()
            self._batcher = None

    @property
    def batch_queries(self) -> bool:
        return self._batch_queries

    @batch_queries.setter
    def batch_queries(self, on: bool) -> None:
        """The API turns it on. A searcher built before (`xmodal serve` loads the model first) is rebuilt
        around the already loaded encoder, so the switch holds whenever it is made."""
        with self._loading:
            if on != self._batch_queries:
                self._batch_queries = on
                self._searcher = None
                if self._batcher is not None:
                    self._batcher.close()
                    self._batcher = None

    # --- what it holds --------------------------------------------------------------------------

    @property
    def directory(self) -> Path:
        return self._store.directory if self._store is not None else Path(self.settings.store)

    @property
    def _database(self) -> str | None:
        return self.settings.database_url

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.settings.store, database_url=self.settings.database_url)
        return self._store

    @property
    def searcher(self) -> Searcher:
        with self._loading:
            if self._searcher is None:
                from xmodal.search import Searcher

                encoder = self._encoder_for(self.store.model["spec"])
                if self._batch_queries:
                    from xmodal.encoders.batching import BatchingEncoder

                    encoder = self._batcher = BatchingEncoder(encoder)
                self._searcher = Searcher(self.store, encoder)
            return self._searcher

    @property
    def image_input_side(self) -> int | None:
        """The shorter side the loaded model resizes images to (uploads decode no larger); None until loaded."""
        return self._encoder.image_input_side if self._encoder is not None else None

    def load(self) -> None:
        """Open the store and load its model now (a server does this before taking requests)."""
        self.searcher  # noqa: B018

    def _encoder_for(self, spec: str) -> Encoder:
        if self._encoder is None or self._encoder.info.spec != spec:
            from xmodal.device import pick_device
            from xmodal.encoders import load_model

            self._encoder = load_model(spec, pick_device(self.settings.device), self.settings.batch_size)
        return self._encoder

    # --- search -------------------------------------------------------------------------------

    def search(self, query: Query) -> Page:
        return self.searcher.search(query)

    def run_query(self, query: BatchQuery) -> list[Hit]:
        """One query as the CLI and batch files give it (files by path)."""
        from xmodal.search.batch import run_query

        return run_query(self, query, self.settings)

    def run_batch(self, lines: Iterable[str]) -> Iterator[dict[str, Any]]:
        """One result record per JSONL query line, in order; a bad line gives an error record."""
        from xmodal.search.batch import run_batch

        return run_batch(self, lines, self.settings)

    # --- items --------------------------------------------------------------------------------

    def item(self, reference: int | str, indexed: bool = False) -> Item:
        """An item by id or external id (with `indexed`, only one that was indexed, not a failure)."""
        item = self.store.find(reference)
        if item is None or (indexed and item.status != "indexed"):
            raise NotFound(f"no {'indexed ' if indexed else ''}item with id {reference}")
        return item

    def parts(self, item_id: int) -> list[Item]:
        """The parts of an item with parts (an image, a caption, a sound), in the order they were added."""
        return self.store.parts_of([item_id])[item_id]

    def failures(self, limit: int | None = None) -> list[Item]:
        """The files this store could not index, each with its reason (`error`); None: all of them."""
        return self.store.failures(limit)

    def delete(self, item_id: int) -> None:
        """Remove an item's row and vector (its file stays); Conflict while a job writes the store.
        Deletes in this process take turns (a server's concurrent DELETEs wait, briefly, for each other)."""
        if not self._deleting.acquire(timeout=DELETE_WAIT_SECONDS):
            raise Conflict(f"the store is busy with other deletes; try again in a few seconds ({self.directory})")
        try:
            self.item(item_id)
            store = Store.open(
                self.directory, self.store.model, writable=True, repair=False, database_url=self._database
            )
            try:
                store.remove([item_id])
            finally:
                store.close()
        finally:
            self._deleting.release()

    # --- index jobs ---------------------------------------------------------------------------

    def index(
        self,
        paths: Sequence[Path],
        *,
        prune: bool = False,
        pair_by_stem: bool = False,
        on_progress: Callable[[JobProgress], None] | None = None,
        admit: Callable[[Source], str | None] | None = None,
        **overrides: Any,
    ) -> JobSummary:
        """Index files, directories and manifests; see `xmodal.indexer`. `admit` may refuse a source
        with a reason (it is recorded as failed); `overrides` are settings for this job (workers=0).
        With `pair_by_stem`, files of a folder sharing a stem (dog.png, dog.txt) become one item with parts.

        Sources are found first (`on_progress` sees the count grow), then the model loads and the
        store opens. A path that does not exist (NotFound) or paths holding nothing to index
        (Invalid) stop the job before either, so no store is created for them. The store's own
        folder and any other xmodal store under a path are never indexed (noted in the summary)."""
        from xmodal.indexer import IndexJob, JobProgress, Skipped, admitted, check_paths, collect_sources

        settings = self.settings.with_overrides(**overrides)
        report = on_progress or (lambda _progress: None)
        progress = JobProgress()
        check_paths(paths)
        found = []
        limits = modalities.Limits.for_indexing(settings)
        sources = collect_sources(list(paths), skip=[self.directory], pair_by_stem=pair_by_stem, limits=limits)
        for source in admitted(sources, admit):
            found.append(source)
            if not isinstance(source, Skipped):
                progress.found += 1
                report(progress)
        if not progress.found and not (prune and Store.recorded_spec(self.directory, self._database)):
            raise Invalid(_nothing_to_index(paths, [note for note in found if isinstance(note, Skipped)]))
        progress.stage = "loading"
        report(progress)
        if settings.ray is not None:
            from xmodal.indexer.embed_ray import require_ray

            require_ray()  # before a model loads or a store is made
        encoder = self._encoder_for(self._index_spec())
        identity, backend = encoder.info.identity(), settings.vector_backend
        store = Store.open(
            self.directory, identity, writable=True, vector_backend=backend, database_url=self._database
        )
        runner = None
        try:
            if settings.ray is not None:  # the embed stage on a Ray cluster; planning and commits stay here
                from xmodal.indexer.embed_ray import ray_runner

                runner = ray_runner(encoder.info.spec, settings, encoder.image_input_side)
            job = IndexJob(store, encoder, settings, on_item=lambda _label: _advance(progress, report), runner=runner)
            restored = self._restore_lost(store, settings)  # rows whose vectors were lost, under their ids
            job.summary.restored = sum(restored.restored.values()) if restored else 0
            progress.stage, progress.total, progress.summary = "indexing", progress.found, job.summary  # live counts
            report(progress)
            return job.run(found, prune_under=[path for path in paths if Path(path).is_dir()] if prune else None)
        finally:
            if runner is not None:
                runner.close()
            store.close()

    def _index_spec(self) -> str:
        """The model for a job: the one asked for, else the store's own, else the one given (or the default)."""
        if self._store is not None:
            recorded = self._store.model["spec"]
        else:
            recorded = Store.recorded_spec(self.directory, self._database)
        return self.settings.model or recorded or (self._encoder.info.spec if self._encoder else DEFAULT_MODEL)

    # --- operations ---------------------------------------------------------------------------

    def stats(self) -> dict[str, dict[str, int]]:
        """{modality: {status: count}}, plus {"duplicates": {"paths": n}} when there are any."""
        return self.store.counts()

    def health(self) -> dict[str, Any]:
        """Counts, and whether every vector index loads: a store that cannot be searched is unhealthy."""
        problems = []
        for modality in self.store.modalities:
            try:
                self.store.vectors(modality)
            except Exception as error:  # noqa: BLE001 - whatever the backend raises, searches would fail alike
                first_line = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
                problems.append(f"the {modality} vector index cannot be read: {first_line}")
        status = "unhealthy" if problems else "ok"
        return {"status": status, "model": self.store.model, "items": self.stats(), "problems": problems}

    def check(self, repair: bool = False) -> CheckReport:
        """Is the database sound (SQLite's integrity check), does every vector file load, do the two agree?
        A damaged database, or a damaged vector file without `repair`, is StoreDamaged (one line). `repair`
        sets a damaged vector file aside and re-embeds rows whose vectors are missing from their files under
        their ids (the model loads only then). Takes the writer lock: no job may write meanwhile."""
        from xmodal.store.database import DatabaseDamaged, damaged_message

        store = Store.open(self.directory, writable=True, repair=False, database_url=self._database)
        try:
            if damage := store.database_problems():
                raise DatabaseDamaged(damaged_message(store.engine.url.database or "?", damage[0]))
            set_aside = store.set_aside_damaged() if repair else []
            report = CheckReport([why for _, why in set_aside] + store.verify())
            if report.found and repair:
                report.repaired = [f"set aside {name} as {name}.damaged, to rebuild it" for name, _ in set_aside]
                report.repaired += store.repair()
                report.repaired += restored.lines() if (restored := self._restore_lost(store)) else []
            report.remaining = store.verify() if report.repaired else report.found
            report.items = store.counts()
        finally:
            store.close()
        return report

    def _restore_lost(self, store: Store, settings: Settings | None = None) -> Restored | None:
        """Re-embed rows whose vectors were lost, under their ids (loads the model when there are any)."""
        if not store.lost(limit=1):
            return None
        from xmodal.indexer.restore import restore_lost

        return restore_lost(store, self._encoder_for(store.model["spec"]), settings or self.settings)

    def upgrade(self) -> list[str]:
        """Bring the store's database schema to this xmodal's (any writer's open does it too); returns
        the revisions applied. Takes the writer lock."""
        store = Store.open(self.directory, writable=True, repair=False, database_url=self._database)
        store.close()
        return store.upgraded

    def info(self) -> dict[str, Any]:
        """Items per modality, each index's layout and recorded tuning, model, devices, size on disk."""
        from xmodal.device import pick_device

        store = self.store
        indexes = {m: {**store.vectors(m).describe(), "tuning": store.info(f"index:{m}")} for m in store.modalities}
        vectors_device = type(store.vectors(store.modalities[0])).device()
        return {
            "store": str(self.directory),
            "database": store.database,
            "model": store.model,
            "model_description": describe_model(store.model),
            "schema_version": store.info("schema_version"),
            "items": store.counts(),
            "vector_backend": store.backend,
            "indexes": indexes,
            "device": {"torch": str(pick_device(self.settings.device)), store.backend: vectors_device},
            "bytes_on_disk": store.size_on_disk(),
        }


def _advance(progress: JobProgress, report: Callable[[JobProgress], None]) -> None:
    progress.processed += 1
    report(progress)


def _nothing_to_index(paths: Sequence[Path], skipped: list[Any]) -> str:
    kinds = ", ".join(f"{kind.plural} ({kind.formats})" for kind in modalities.REGISTRY.values())
    given = ", ".join(str(path) for path in paths)
    stores = f"; skipped {', '.join(f'{note.where} ({note.reason})' for note in skipped)}" if skipped else ""
    return f"nothing to index in {given}: no {kinds} and no manifest entries{stores}"
