"""What a store records about itself (schema version, model, vector backend), and refusing a mismatch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from xmodal.errors import Conflict, NotFound, Unavailable
from xmodal.store.schema import SCHEMA_VERSION, StoreInfo
from xmodal.store.vectors import DEFAULT_BACKEND


class StoreError(Conflict):
    """A store that cannot be used as asked: another writer holds it, another model filled it, ..."""


class StoreNotFound(StoreError, NotFound):
    status = 404


class StoreDamaged(Unavailable):
    """A store file that cannot be read (truncated, corrupt): one line naming it, not a backend traceback."""


def describe_model(model: dict[str, Any]) -> str:
    """A model identity as a person reads it."""
    return f"{model['spec']} version {model['version']} ({model['dim']}-d)"


def check_and_record(
    engine: Engine, directory: Path, model: dict[str, Any] | None, writable: bool, backend: str | None
) -> tuple[dict[str, Any], str]:
    """The store's model and vector backend. A writer records them when the store is new (and the
    backend of a store made before backends had names); `model` and `backend`, when given, must match."""
    with Session(engine) as session, session.begin():
        info = {row.key: row.value for row in session.scalars(select(StoreInfo))}
        version = info.get("schema_version", SCHEMA_VERSION)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {directory} has schema {version}, newer than this xmodal ({SCHEMA_VERSION}); upgrade xmodal"
            )
        if writable and version < SCHEMA_VERSION:
            session.merge(StoreInfo(key="schema_version", value=SCHEMA_VERSION))  # the open's migrations got it there
        new_store = info.get("model") is None
        recorded = _model(session, info.get("model"), directory, model if writable else None)
        if model is not None and model != recorded:
            raise StoreError(
                f"store {directory} was built with model {describe_model(recorded)}; it cannot take vectors of "
                f"{describe_model(model)}. Use another --store, or the model the store was built with."
            )
        return recorded, _backend(session, info.get("vector_backend"), directory, writable, backend, new_store)


def _model(session: Session, recorded: Any, directory: Path, new: dict[str, Any] | None) -> dict[str, Any]:
    if recorded is not None:
        return recorded
    if new is None:
        raise StoreError(f"store {directory} records no model; it was never filled")
    session.merge(StoreInfo(key="schema_version", value=SCHEMA_VERSION))
    session.add(StoreInfo(key="model", value=new))
    return new


def _backend(session: Session, recorded: Any, directory: Path, writable: bool, wanted: str | None, new: bool) -> str:
    if recorded is None:
        recorded = (wanted or DEFAULT_BACKEND) if new else "faiss"  # stores made before backends had names are FAISS
        if writable:
            session.merge(StoreInfo(key="vector_backend", value=recorded))
    if wanted is not None and wanted != recorded:
        raise StoreError(
            f"store {directory} keeps its vectors with {recorded!r}; it cannot switch to {wanted!r} "
            "(index into a new store to use another vector backend)"
        )
    return recorded
