"""A store is one directory: `xmodal.db` (SQLite metadata), `vectors/<modality>.faiss`, a writer lock.
All persistence goes through it: rows, vectors, filters, keyword search.

One writer at a time holds the lock; readers (the server) open without it and pick up what the
writer saves. Rows are committed per batch and index files saved at checkpoints, so after a
crash the two can disagree: a writer's open repairs that (vectors with no row are removed; rows
with no vector are dropped and so embedded again by the next run).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from xmodal import modalities
from xmodal.errors import Conflict
from xmodal.store.database import DATABASE_NAME, connect, default_url, holds_a_store
from xmodal.store.filters import Filters, allowed_ids, condition
from xmodal.store.keyword import keyword_index
from xmodal.store.schema import SCHEMA_VERSION, Base, Duplicate, Item, StoreInfo
from xmodal.store.tuning import Tuning, needs_rebuild, rebuild_and_tune
from xmodal.store.vectors import VectorIndex

MODALITIES = modalities.NAMES  # one vector index each


class StoreError(Conflict):
    """A store that cannot be used as asked: another writer holds it, another model filled it, ..."""


class StoreNotFound(StoreError):
    status = 404


class Store:
    def __init__(self, directory: Path, engine: Engine, model: dict[str, Any], lock: "_WriterLock | None") -> None:
        self.directory = directory
        self.engine = engine
        self.model = model
        self.writable = lock is not None
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.keywords = keyword_index(engine.dialect.name)
        self._lock = lock
        self._vectors: dict[str, VectorIndex] = {}

    @classmethod
    def open(
        cls, directory: str | Path, model: dict[str, Any] | None = None, writable: bool = False, repair: bool = True,
        database_url: str | None = None,
    ) -> "Store":
        """Open for reading, or for writing (exclusive; with a model identity, create the store if
        missing and refuse another model; repair what a crash left unless `repair` is False).
        The metadata live in `database_url` (any SQLAlchemy URL), by default `xmodal.db` in `directory`."""
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
        lock = _WriterLock(directory) if writable else None
        if writable:
            Base.metadata.create_all(engine)
            keyword_index(engine.dialect.name).install(engine)  # kept in step with the items by the database
        store = cls(directory, engine, _check_and_record(engine, directory, model if writable else None, model), lock)
        if writable and repair:
            store.repair()
        return store

    def close(self) -> None:
        self.save()
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        self.engine.dispose()

    @staticmethod
    def recorded_spec(directory: str | Path) -> str | None:
        """The model spec an existing store was built with, or None when there is no store yet."""
        if not (Path(directory) / DATABASE_NAME).exists():
            return None
        store = Store.open(directory)
        store.engine.dispose()  # only the recorded model was wanted: release the connection now
        return store.model["spec"]

    # --- vectors -------------------------------------------------------------------------------

    def vectors(self, modality: str) -> VectorIndex:
        if modality not in self._vectors:
            self._vectors[modality] = VectorIndex(self.directory / "vectors" / f"{modality}.faiss", int(self.model["dim"]))
        elif not self.writable:
            self._vectors[modality].refresh()
        return self._vectors[modality]

    def save(self) -> None:
        """Checkpoint: write the index files that changed since the last save."""
        for index in self._vectors.values():
            if index.dirty:
                index.save()

    def optimize(self, kind: str = "auto") -> dict[str, Tuning]:
        """Move each modality's index to the layout its size calls for (or `kind`), tuned to the
        recall target and recorded; returns the tunings that were (re)done."""
        done = {}
        for modality in MODALITIES:
            index, key = self.vectors(modality), f"index:{modality}"
            recorded = self.info(key)
            layout = needs_rebuild(index, recorded, kind)
            if layout is not None:
                done[modality] = rebuild_and_tune(index, layout)
            elif index.kind == "flat" and len(index) and (recorded or {}).get("count") != len(index):
                done[modality] = Tuning(index.layout, None, 1.0, len(index), 0)  # exact: nothing to tune
            if modality in done:
                self.set_info(key, done[modality].record())
        self.save()
        return done

    # --- writes --------------------------------------------------------------------------------

    def add(self, items: Sequence[Item], vectors: np.ndarray) -> None:
        """Insert indexed items and their vectors (row i of `vectors` belongs to items[i])."""
        with self.sessions.begin() as session:
            session.add_all(items)
            session.flush()  # assigns ids
            ids = np.array([item.id for item in items], dtype=np.int64)
            modalities = np.array([item.modality for item in items])
            for modality in set(modalities.tolist()):
                self.vectors(modality).add(ids[modalities == modality], vectors[modalities == modality])
            session.expunge_all()

    def add_failed(self, items: Iterable[Item]) -> None:
        with self.sessions.begin() as session:
            for item in items:
                if item.path is not None:
                    session.execute(delete(Item).where(Item.path == item.path))
                session.add(item)

    def remove(self, item_ids: Sequence[int]) -> None:
        with self.sessions.begin() as session:
            items = session.scalars(select(Item).where(Item.id.in_(item_ids))).all()
            for modality in {item.modality for item in items}:
                self.vectors(modality).remove(np.array([item.id for item in items if item.modality == modality]))
            session.execute(delete(Duplicate).where(Duplicate.item_id.in_(item_ids)))
            for item in items:
                session.delete(item)

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
            return self.keywords.search(session, include, exclude, limit, condition(filters))

    def allowed_ids(self, filters: Filters | None, candidates: Iterable[int]) -> set[int]:
        """The candidates that pass the filters (all of them without filters)."""
        with self.sessions() as session:
            return allowed_ids(session, condition(filters), candidates)

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

    def by_content(self, content_hash: str, modality: str) -> Item | None:
        query = select(Item).where(Item.content_hash == content_hash, Item.modality == modality, Item.status == "indexed")
        with self.sessions() as session:
            return session.scalar(query.order_by(Item.id).limit(1))

    def file_paths(self) -> list[tuple[str, int, bool]]:
        """(path, item id, is a duplicate) for every file the store knows."""
        with self.sessions() as session:
            items = session.execute(select(Item.path, Item.id).where(Item.path.is_not(None)))
            duplicates = session.execute(select(Duplicate.path, Duplicate.item_id))
            return [(path, item_id, False) for path, item_id in items] + [(path, item_id, True) for path, item_id in duplicates]

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

    def failures(self, limit: int = 100) -> list[Item]:
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
        """Every disagreement between the database and the index files, as sentences."""
        problems = []
        for modality in MODALITIES:
            rows, in_index = self._row_and_vector_ids(modality)
            if orphans := in_index - rows:
                problems.append(f"{modality}: {len(orphans)} vectors have no indexed row (e.g. id {min(orphans)})")
            if missing := rows - in_index:
                problems.append(f"{modality}: {len(missing)} indexed rows have no vector (e.g. id {min(missing)})")
            index = self.vectors(modality)
            if len(index) != len(in_index):
                problems.append(f"{modality}: the index counts {len(index)} vectors but holds {len(in_index)} distinct ids")
        leftovers = sorted((self.directory / "vectors").glob("*.tmp"))
        problems += [f"unfinished index write left behind: {path.name}" for path in leftovers]
        return problems

    def repair(self) -> list[str]:
        """Make each index hold exactly the vectors of indexed rows; returns what was done."""
        done = []
        for modality in MODALITIES:
            rows, in_index = self._row_and_vector_ids(modality)
            index = self.vectors(modality)
            if orphans := in_index - rows:
                index.remove(np.array(sorted(orphans)))
                done.append(f"removed {len(orphans)} {modality} vectors with no row")
            if missing := rows - in_index:
                with self.sessions.begin() as session:
                    session.execute(delete(Duplicate).where(Duplicate.item_id.in_(missing)))
                    session.execute(delete(Item).where(Item.id.in_(missing)))  # the next run embeds them again
                done.append(f"dropped {len(missing)} {modality} rows with no vector (re-index to restore them)")
        for leftover in (self.directory / "vectors").glob("*.tmp"):
            leftover.unlink()
            done.append(f"deleted unfinished index write {leftover.name}")
        self.save()
        return done

    def _row_and_vector_ids(self, modality: str) -> tuple[set[int], set[int]]:
        with self.sessions() as session:
            rows = set(session.scalars(select(Item.id).where(Item.modality == modality, Item.status == "indexed")))
        return rows, set(self.vectors(modality).ids().tolist())

    def size_on_disk(self) -> int:
        return sum(path.stat().st_size for path in self.directory.rglob("*") if path.is_file())


_LOCKED_HERE: set[Path] = set()  # POSIX locks are per process: a second writer in this one is caught here


class _WriterLock:
    """An exclusive POSIX record lock on `writer.lock`. Unlike flock, it is not inherited by
    forked decoder processes, and the OS drops it the moment its process dies (kill -9 included)."""

    def __init__(self, directory: Path) -> None:
        self.key = directory.resolve()
        if self.key in _LOCKED_HERE:
            raise StoreError(f"store {directory} is being written by process {os.getpid()} (this one); close that store first")
        self.handle = open(directory / "writer.lock", "a+")
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


def _check_and_record(engine: Engine, directory: Path, new_model: dict[str, Any] | None, expected: dict[str, Any] | None) -> dict[str, Any]:
    with Session(engine) as session, session.begin():
        info = {row.key: row.value for row in session.scalars(select(StoreInfo))}
        version = info.get("schema_version", SCHEMA_VERSION)
        if version > SCHEMA_VERSION:
            raise StoreError(f"store {directory} has schema {version}, newer than this xmodal ({SCHEMA_VERSION}); upgrade xmodal")
        if new_model is not None and version < SCHEMA_VERSION:
            session.merge(StoreInfo(key="schema_version", value=SCHEMA_VERSION))  # 1 -> 2 only added a table
        recorded = info.get("model")
        if recorded is None:
            if new_model is None:
                raise StoreError(f"store {directory} records no model; it was never filled")
            session.add_all([StoreInfo(key="schema_version", value=SCHEMA_VERSION), StoreInfo(key="model", value=new_model)])
            return new_model
        if expected is not None and expected != recorded:
            raise StoreError(
                f"store {directory} was built with model {describe_model(recorded)}; it cannot take vectors of "
                f"{describe_model(expected)}. Use another --store, or the model the store was built with."
            )
        return recorded


def describe_model(model: dict[str, Any]) -> str:
    """A model identity as a person reads it."""
    return f"{model['spec']} version {model['version']} ({model['dim']}-d)"
