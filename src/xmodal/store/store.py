"""A store is one directory: `xmodal.db` (SQLite metadata) and `vectors/<modality>.faiss`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from xmodal.store.schema import SCHEMA_VERSION, Base, Item, StoreInfo
from xmodal.store.vectors import VectorIndex

DATABASE_NAME = "xmodal.db"


class StoreError(Exception):
    pass


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers (the server) never block the indexer
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


class Store:
    def __init__(self, directory: Path, engine: Engine, model: dict[str, Any]) -> None:
        self.directory = directory
        self.engine = engine
        self.model = model
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self._vectors: dict[str, VectorIndex] = {}

    @classmethod
    def open(cls, directory: str | Path, model: dict[str, Any] | None = None) -> "Store":
        """Open a store. Given a model identity, create the store if missing and refuse another model."""
        directory = Path(directory)
        database = directory / DATABASE_NAME
        if not database.exists():
            if model is None:
                raise StoreError(f"no xmodal store at {directory} (create one with `xmodal index --store {directory} PATH`)")
            directory.mkdir(parents=True, exist_ok=True)
        engine = _sqlite_engine(database)
        Base.metadata.create_all(engine)
        recorded = _check_and_record(engine, directory, model)
        store = cls(directory, engine, recorded)
        store.reconcile()
        return store

    @staticmethod
    def recorded_spec(directory: str | Path) -> str | None:
        """The model spec an existing store was built with, or None when there is no store yet."""
        if not (Path(directory) / DATABASE_NAME).exists():
            return None
        return Store.open(directory).model["spec"]

    def vectors(self, modality: str) -> VectorIndex:
        if modality not in self._vectors:
            self._vectors[modality] = VectorIndex(self.directory / "vectors" / f"{modality}.faiss", int(self.model["dim"]))
        return self._vectors[modality]

    def add(self, items: Sequence[Item], vectors: np.ndarray) -> None:
        """Insert indexed items and their vectors (row i of `vectors` belongs to items[i])."""
        with self.sessions.begin() as session:
            session.add_all(items)
            session.flush()  # assigns ids
            ids = np.array([item.id for item in items], dtype=np.int64)
            touched = {item.modality for item in items}
            for modality in touched:
                rows = np.array([item.modality == modality for item in items])
                self.vectors(modality).add(ids[rows], vectors[rows])
            for modality in touched:  # saved before the commit: a crash in between leaves orphan vectors,
                self.vectors(modality).save()  # which `reconcile` drops on the next open
            session.expunge_all()

    def add_failed(self, items: Iterable[Item]) -> None:
        with self.sessions.begin() as session:
            for item in items:
                if item.path is not None:
                    previous = session.scalar(select(Item).where(Item.path == item.path))
                    if previous is not None:
                        session.delete(previous)
                        session.flush()
                session.add(item)

    def remove(self, item_ids: Sequence[int]) -> None:
        with self.sessions.begin() as session:
            items = session.scalars(select(Item).where(Item.id.in_(item_ids))).all()
            for modality in {item.modality for item in items}:
                ids = np.array([item.id for item in items if item.modality == modality])
                self.vectors(modality).remove(ids)
                self.vectors(modality).save()
            for item in items:
                session.delete(item)

    def get(self, item_ids: Iterable[int]) -> dict[int, Item]:
        with self.sessions() as session:
            return {item.id: item for item in session.scalars(select(Item).where(Item.id.in_(list(item_ids))))}

    def by_path(self, path: str) -> Item | None:
        with self.sessions() as session:
            return session.scalar(select(Item).where(Item.path == path))

    def by_external_id(self, external_id: str) -> Item | None:
        with self.sessions() as session:
            return session.scalar(select(Item).where(Item.external_id == external_id))

    def has_content(self, content_hash: str, modality: str) -> bool:
        query = select(Item.id).where(Item.content_hash == content_hash, Item.modality == modality, Item.status == "indexed")
        with self.sessions() as session:
            return session.scalar(query.limit(1)) is not None

    def counts(self) -> dict[str, dict[str, int]]:
        """{modality: {status: n}}"""
        query = select(Item.modality, Item.status, func.count()).group_by(Item.modality, Item.status)
        result: dict[str, dict[str, int]] = {}
        with self.sessions() as session:
            for modality, status, count in session.execute(query):
                result.setdefault(modality, {})[status] = count
        return result

    def failures(self, limit: int = 100) -> list[Item]:
        with self.sessions() as session:
            return list(session.scalars(select(Item).where(Item.status == "failed").order_by(Item.id).limit(limit)))

    def reconcile(self) -> list[str]:
        """Make each index hold exactly the vectors of indexed rows; returns what was fixed."""
        fixed = []
        with self.sessions.begin() as session:
            for modality in ("text", "image", "audio"):
                rows = set(session.scalars(select(Item.id).where(Item.modality == modality, Item.status == "indexed")))
                index = self.vectors(modality)
                in_index = set(index.ids().tolist())
                if orphans := in_index - rows:
                    index.remove(np.array(sorted(orphans)))
                    index.save()
                    fixed.append(f"removed {len(orphans)} {modality} vectors with no row")
                if missing := rows - in_index:
                    for item in session.scalars(select(Item).where(Item.id.in_(missing))):
                        session.delete(item)  # so the next index run embeds them again
                    fixed.append(f"dropped {len(missing)} {modality} rows with no vector")
        return fixed


def _check_and_record(engine: Engine, directory: Path, model: dict[str, Any] | None) -> dict[str, Any]:
    with Session(engine) as session, session.begin():
        info = {row.key: row.value for row in session.scalars(select(StoreInfo))}
        version = info.get("schema_version", SCHEMA_VERSION)
        if version > SCHEMA_VERSION:
            raise StoreError(f"store {directory} has schema {version}, newer than this xmodal ({SCHEMA_VERSION}); upgrade xmodal")
        recorded = info.get("model")
        if recorded is None:
            if model is None:
                raise StoreError(f"store {directory} records no model; it was never filled")
            session.add_all([StoreInfo(key="schema_version", value=SCHEMA_VERSION), StoreInfo(key="model", value=model)])
            return model
        if model is not None and model != recorded:
            raise StoreError(
                f"store {directory} was built with model {describe_model(recorded)}; it cannot take vectors of "
                f"{describe_model(model)}. Use another --store, or the model the store was built with."
            )
        return recorded


def describe_model(model: dict[str, Any]) -> str:
    """A model identity as a person reads it."""
    return f"{model['spec']} version {model['version']} ({model['dim']}-d)"
