"""The metadata database behind any SQLAlchemy URL; an SQLite file in the store directory by default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect

DATABASE_NAME = "xmodal.db"


def default_url(directory: Path) -> str:
    return f"sqlite:///{Path(directory) / DATABASE_NAME}"


def connect(url: str) -> Engine:
    """An engine for `url`, with the settings its dialect needs here."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers (the server) never block the indexer
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def holds_a_store(engine: Engine) -> bool:
    return inspect(engine).has_table("store_info")
