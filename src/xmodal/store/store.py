"""A store is one directory: the metadata database (`xmodal.db`, SQLite by default), one vector file
per modality under `vectors/` (FAISS by default), and a writer lock. All persistence goes through it:
rows, vectors, filters, keyword search.

One writer at a time holds the lock; readers (the server) open without it and pick up what the
writer saves. Rows are committed per batch and vector files saved at checkpoints, so after a crash
the two can disagree: a writer's open repairs that (`consistency.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import sessionmaker

from xmodal import modalities
from xmodal.store import consistency, migrate, parts
from xmodal.store.database import DATABASE_NAME, connect, default_url, holds_a_store
from xmodal.store.filters import Filters, allowed_ids, condition
from xmodal.store.keyword import keyword_index
from xmodal.store.lock import WriterLock
from xmodal.store.records import StoreDamaged, StoreError, StoreNotFound, check_and_record, describe_model
from xmodal.store.schema import EMBEDDED, INDEXED, ITEM, LOST, PENDING, Duplicate, Item, StoreInfo
from xmodal.store.vectors import VectorBackend, backend_class, open_backend

__all__ = ["Store", "StoreError", "StoreNotFound", "describe_model"]
PREFILTER_LIMIT = 10_000  # filters matching up to this many items are handed to the vector search as an id set


class Store:
    modalities = (*modalities.NAMES, ITEM)  # one vector index each; ITEM: the fused vectors of items with parts

    def __init__(
        self, directory: Path, engine: Engine, model: dict[str, Any], backend: str, lock: WriterLock | None
    ) -> None:
        self.directory = directory
        self.engine = engine
        self.model = model
        self.backend = backend
        self.writable = lock is not None
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.dialect = engine.dialect.name
        self.keywords = keyword_index(self.dialect)
        self._lock = lock
        self._vectors: dict[str, VectorBackend] = {}
        self._restored: list[int] = []  # lost rows whose vectors were added again, searchable at the next save
        self.upgraded: list[str] = []  # schema revisions this open applied

    @classmethod
    def open(
        cls,
        directory: str | Path,
        model: dict[str, Any] | None = None,
        writable: bool = False,
        repair: bool = True,
        database_url: str | None = None,
        vector_backend: str | None = None,
    ) -> "Store":
        """Open for reading, or for writing (exclusive; with a model identity, create the store if
        missing and refuse another model; repair what a crash left unless `repair` is False).
        The metadata live in `database_url` (any SQLAlchemy URL), by default `xmodal.db` in `directory`;
        `vector_backend` names the backend of a new store (an existing one keeps its own)."""
        directory = Path(directory)
        creating = model is not None and writable
        missing = f"no xmodal store at {directory} (create one with `xmodal index --store {directory} PATH`)"
        if database_url is None and not (directory / DATABASE_NAME).exists() and not creating:
            raise StoreNotFound(missing)
        engine = connect(database_url or default_url(directory))
        if not creating and not holds_a_store(engine):
            engine.dispose()
            raise StoreNotFound(missing)
        if creating:
            directory.mkdir(parents=True, exist_ok=True)
        lock = WriterLock(directory) if writable else None
        upgraded: list[str] = []
        try:
            if writable:
                upgraded = migrate.upgrade(engine)
                keyword_index(engine.dialect.name).install(engine)  # kept in step with the items by the database
            else:
                migrate.check_readable(engine, directory)
            recorded, backend = check_and_record(engine, directory, model, writable, vector_backend)
        except BaseException:
            engine.dispose()
            if lock is not None:
                lock.close()
            raise
        store = cls(directory, engine, recorded, backend, lock)
        store.upgraded = upgraded
        if writable and repair:
            store.repair()
        return store

    @property
    def database(self) -> str:
        """The metadata database's URL, password hidden (for `info`)."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.save()
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        self.engine.dispose()

    @staticmethod
    def recorded_spec(directory: str | Path, database_url: str | None = None) -> str | None:
        """The model spec an existing store was built with, or None when there is no store yet."""
        if database_url is None and not (Path(directory) / DATABASE_NAME).exists():
            return None
        try:
            store = Store.open(directory, database_url=database_url)
        except StoreNotFound:
            return None
        store.engine.dispose()  # only the recorded model was wanted: release the connection now
        return store.model["spec"]

    # --- vectors -------------------------------------------------------------------------------

    def vectors(self, modality: str) -> VectorBackend:
        """The modality's vector index; a reader's is reloaded when the writer saved a newer file."""
        stem = self.directory / "vectors" / modality
        try:
            if modality not in self._vectors:
                self._vectors[modality] = open_backend(self.backend, stem, int(self.model["dim"]))
            elif not self.writable:
                self._vectors[modality].refresh()
        except (RuntimeError, OSError, ValueError, EOFError) as error:  # FAISS says so with a RuntimeError
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            reason = first_line.rsplit(": ", 2)[-2] if first_line.count(": ") >= 2 else first_line  # past C++ frames
            raise StoreDamaged(
                f"cannot read the {modality} vector index of {self.directory} ({reason[:200]}); "
                f"`xmodal check --repair --store {self.directory}` rebuilds it from the indexed files"
            ) from None
        return self._vectors[modality]

    def vector_file(self, modality: str) -> Path:
        return self.directory / "vectors" / f"{modality}{backend_class(self.backend).suffix}"

    def save(self) -> None:
        """Checkpoint: write the vector files that changed since the last save, then make the rows
        added since searchable (a reader never sees an indexed row whose vector is not on disk)."""
        for index in self._vectors.values():
            if index.dirty:
                index.save()
        if self.writable:
            restored, self._restored = self._restored, []
            with self.sessions.begin() as session:
                session.execute(update(Item).where(Item.status == PENDING).values(status=INDEXED))
                for start in range(0, len(restored), 10_000):  # within every database's bound-parameter limit
                    chunk = restored[start : start + 10_000]
                    session.execute(update(Item).where(Item.id.in_(chunk), Item.status == LOST).values(status=INDEXED))

    def optimize(self, kind: str = "auto") -> dict[str, dict[str, Any]]:
        """Give each modality's index the layout its size calls for (or `kind`), tuned and recorded
        (`index:<modality>` in store_info); returns the records of what was (re)done."""
        done = {}
        for modality in self.modalities:
            key = f"index:{modality}"
            record = self.vectors(modality).optimize(kind, self.info(key))
            if record is not None:
                done[modality] = record
                self.set_info(key, record)
        self.save()
        return done

    # --- writes --------------------------------------------------------------------------------

    def add(self, items: Sequence[Item], vectors: np.ndarray) -> None:
        """Insert indexed items and their vectors (row i of `vectors` belongs to items[i]). The rows are
        pending, invisible to searches, until `save` has written their vectors."""
        for item in items:
            item.status = PENDING
        with self.sessions.begin() as session:
            session.add_all(items)
            session.flush()  # assigns ids
            ids = np.array([item.id for item in items], dtype=np.int64)
            kinds = np.array([item.modality for item in items])
            for modality in set(kinds.tolist()):
                self.vectors(modality).add(ids[kinds == modality], vectors[kinds == modality])
            session.expunge_all()

    def restore(self, modality: str, item_ids: Sequence[int], vectors: np.ndarray) -> None:
        """Give lost rows their vectors again, under the same ids; searchable after the next save."""
        self.vectors(modality).add(np.asarray(item_ids, dtype=np.int64), vectors)
        self._restored.extend(int(item_id) for item_id in item_ids)
        parts.restored(self, item_ids)  # items with parts among them: their fused vectors too

    @property
    def restored_ids(self) -> list[int]:
        """Lost rows whose vectors were added again, searchable at the next save."""
        return self._restored

    def lost(self, limit: int | None = None) -> list[Item]:
        """Rows whose vectors were lost, waiting to be re-embedded (`consistency`)."""
        with self.sessions() as session:
            query = select(Item).where(Item.status == LOST, Item.modality != ITEM)  # an item comes back with its parts
            return list(session.scalars(query.order_by(Item.id).limit(limit)))

    def add_failed(self, items: Iterable[Item]) -> None:
        with self.sessions.begin() as session:
            for item in items:
                if item.path is not None:
                    session.execute(delete(Item).where(Item.path == item.path))
                session.add(item)

    def remove(self, item_ids: Sequence[int]) -> None:
        """Remove rows and vectors; an item's parts go with it, and an item losing a part gets its fused
        vector recomputed (or goes too, when it has no part left)."""
        with self.sessions.begin() as session:
            items, losing = parts.removal(session, item_ids)
            for modality in {item.modality for item in items}:
                self.vectors(modality).remove(np.array([item.id for item in items if item.modality == modality]))
            session.execute(delete(Duplicate).where(Duplicate.item_id.in_([item.id for item in items])))
            for item in items:
                session.delete(item)
        if losing:
            parts.refresh(self, losing)

    def write_item(self, change: parts.ItemWrite) -> int:
        """An item made of parts, with its parts, in one transaction (see `parts.py`); returns its id."""
        return parts.write_item(self, change)

    def parts_of(self, item_ids: Iterable[int], embedded_only: bool = True) -> dict[int, list[Item]]:
        return parts.parts_of(self, item_ids, embedded_only)

    def relabel(self, item_id: int, external_id: str | None, metadata: dict[str, Any] | None) -> None:
        """Give an item another external id and/or metadata (None: keep); its vector stays."""
        values: dict[str, Any] = {}
        if external_id is not None:
            values["external_id"] = external_id
        if metadata is not None:
            values["meta"] = metadata
        with self.sessions.begin() as session:
            session.execute(update(Item).where(Item.id == item_id).values(**values))

    def relocate(self, item_id: int, path: str, size: int | None, mtime: float | None) -> None:
        """A moved file, or a touched one with unchanged content: same item, same vector."""
        with self.sessions.begin() as session:
            session.execute(delete(Duplicate).where(Duplicate.path == path))
            session.execute(update(Item).where(Item.id == item_id).values(path=path, size=size, mtime=mtime))

    def add_duplicate(self, path: str, item_id: int, size: int | None, mtime: float | None) -> None:
        with self.sessions.begin() as session:
            session.merge(Duplicate(path=path, item_id=item_id, size=size, mtime=mtime))

    def remove_duplicates(self, paths: Sequence[str]) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(Duplicate).where(Duplicate.path.in_(paths)))

    # --- reads ---------------------------------------------------------------------------------

    def keyword_search(
        self, include: Sequence[str], exclude: Sequence[str] = (), limit: int = 10, filters: Filters | None = None
    ) -> list[tuple[int, float]]:
        """(item id, relevance) of indexed text items matching any word of `include` and none of
        `exclude` (and the filters), best first."""
        with self.sessions() as session:
            return self.keywords.search(session, include, exclude, limit, condition(filters, self.dialect))

    def allowed_ids(self, filters: Filters | None, candidates: Iterable[int]) -> set[int]:
        """The candidates that pass the filters (all of them without filters)."""
        with self.sessions() as session:
            return allowed_ids(session, condition(filters, self.dialect), candidates)

    def matching_ids(self, filters: Filters, modality: str, limit: int = PREFILTER_LIMIT) -> set[int] | None:
        """The ids of indexed items of a modality that pass the filters, or None when more than
        `limit` do (then filtering the vector search's candidates is cheaper than listing them)."""
        where = Item.modality == modality, Item.status == "indexed", condition(filters, self.dialect)
        with self.sessions() as session:
            found = set(session.scalars(select(Item.id).where(*where).limit(limit + 1)))
        return None if len(found) > limit else found

    def find(self, reference: int | str) -> Item | None:
        """An item by id, or else by external id."""
        text, item = str(reference), None
        if text.isascii() and text.isdigit() and int(text) < 2**63:  # database integers are 64-bit
            item = self.get([int(text)]).get(int(text))
        return item if item is not None else self.by_external_id(text)

    def get(self, item_ids: Iterable[int]) -> dict[int, Item]:
        with self.sessions() as session:
            return {item.id: item for item in session.scalars(select(Item).where(Item.id.in_(list(item_ids))))}

    def by_path(self, path: str) -> Item | None:
        with self.sessions() as session:
            return session.scalar(select(Item).where(Item.path == path))

    def duplicate_at(self, path: str) -> Duplicate | None:
        with self.sessions() as session:
            return session.get(Duplicate, path)

    def by_external_id(self, external_id: str) -> Item | None:
        with self.sessions() as session:
            return session.scalar(select(Item).where(Item.external_id == external_id))

    def by_content(self, content_hash: str, modality: str, single: bool = False) -> Item | None:
        """The first embedded row with this content (with `single`, only a single-file item, not a part)."""
        query = select(Item).where(
            Item.content_hash == content_hash, Item.modality == modality, Item.status.in_(EMBEDDED)
        )
        if single:
            query = query.where(Item.parent_id.is_(None))
        with self.sessions() as session:
            return session.scalar(query.order_by(Item.id).limit(1))

    def file_paths(self) -> list[tuple[str, int, bool]]:
        """(path, item id, is a duplicate) for every file the store knows."""
        with self.sessions() as session:
            items = session.execute(select(Item.path, Item.id).where(Item.path.is_not(None)))
            duplicates = session.execute(select(Duplicate.path, Duplicate.item_id))
            return [(path, item_id, False) for path, item_id in items] + [
                (path, item_id, True) for path, item_id in duplicates
            ]

    def duplicates_of(self, item_id: int) -> list[Duplicate]:
        with self.sessions() as session:
            return list(session.scalars(select(Duplicate).where(Duplicate.item_id == item_id).order_by(Duplicate.path)))

    def counts(self) -> dict[str, dict[str, int]]:
        """{modality: {status: n}}"""
        query = select(Item.modality, Item.status, func.count()).group_by(Item.modality, Item.status)
        result: dict[str, dict[str, int]] = {}
        with self.sessions() as session:
            for modality, status, count in session.execute(query):
                result.setdefault(modality, {})[status] = count
            duplicates = session.scalar(select(func.count()).select_from(Duplicate))
        if duplicates:
            result["duplicates"] = {"paths": duplicates}
        return result

    def failures(self, limit: int | None = 100) -> list[Item]:
        """Files recorded as failed, with why (`error`), in the order they were met; None: all of them."""
        with self.sessions() as session:
            return list(session.scalars(select(Item).where(Item.status == "failed").order_by(Item.id).limit(limit)))

    def info(self, key: str) -> Any:
        with self.sessions() as session:
            row = session.get(StoreInfo, key)
            return None if row is None else row.value

    def set_info(self, key: str, value: Any) -> None:
        with self.sessions.begin() as session:
            session.merge(StoreInfo(key=key, value=value))

    # --- consistency ---------------------------------------------------------------------------

    def verify(self) -> list[str]:
        """Every disagreement between the database and the vector files, as sentences."""
        return consistency.verify(self)

    def repair(self) -> list[str]:
        """Make each index hold exactly the vectors of indexed rows (rows whose vectors are missing are kept,
        LOST, to be re-embedded by `xmodal.indexer.restore`); returns what was done."""
        return consistency.repair(self)

    def set_aside_damaged(self) -> list[tuple[str, str]]:
        """Move each vector file that cannot be read aside (kept as `<file>.damaged`): an empty index takes
        its place and `repair` marks its rows for re-embedding. Returns (file name, why) of each."""
        return consistency.set_aside_damaged(self)

    def database_problems(self) -> list[str]:
        """What the database's own integrity check finds (SQLite: every page and index); [] when sound."""
        return consistency.database_problems(self)

    def size_on_disk(self) -> int:
        return sum(path.stat().st_size for path in self.directory.rglob("*") if path.is_file())
