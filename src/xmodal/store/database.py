"""The metadata database behind any SQLAlchemy URL; an SQLite file in the store directory by default."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from xmodal.errors import Invalid, Unavailable
from xmodal.files import no_space

DATABASE_NAME = "xmodal.db"
DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}  # psycopg 3: the postgres extra


def default_url(directory: Path) -> str:
    return f"sqlite:///{Path(directory) / DATABASE_NAME}"


def connect(url: str) -> Engine:
    """An engine for `url`, with the settings its dialect needs here; a plain postgresql:// URL means psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise Invalid(f"database URL {url!r} is not an SQLAlchemy URL (like postgresql://user@host/db)") from None
    parsed = parsed.set(drivername=DRIVERS.get(parsed.drivername, parsed.drivername))
    if parsed.get_backend_name() != "sqlite":
        try:
            # psycopg prepares a statement after 5 runs, and PostgreSQL may then plan it generically:
            # keyword queries lose their GIN index scan (0.3 -> 15 ms at 100k items). Plan each query.
            # UTF-8 on the wire: a cluster made without a locale is SQL_ASCII, where psycopg would give bytes.
            psycopg = {"prepare_threshold": None, "client_encoding": "utf8"}
            options = psycopg if parsed.get_driver_name() == "psycopg" else {}
            return create_engine(parsed, pool_pre_ping=True, connect_args=options)
        except (ImportError, NoSuchModuleError) as error:
            shown = parsed.render_as_string(hide_password=True)
            raise Invalid(
                f"database {shown}: its driver is not installed ({error}); "
                "for PostgreSQL: pip install 'xmodal[postgres]'"
            ) from None
    engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers (the server) never block the indexer
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "handle_error")
    def _damaged_or_full(context: Any) -> None:
        """A corrupt page or a file that is no database, or a full disk, is one line naming the file
        (exit 2, 503), not a traceback."""
        error = context.original_exception
        if isinstance(error, sqlite3.OperationalError) and "database or disk is full" in str(error):
            raise no_space(f"the metadata database {parsed.database}")
        if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError):
            if any(sign in str(error) for sign in DAMAGE_SIGNS):
                raise DatabaseDamaged(damaged_message(parsed.database or "?", str(error)))

    return engine


DAMAGE_SIGNS = ("malformed", "not a database", "corrupt")


def damaged_message(file: str, reason: str) -> str:
    return (
        f"the metadata database {file} is damaged ({reason[:200]}); restore it from a backup, "
        "or re-index into a new store"
    )


def holds_a_store(engine: Engine) -> bool:
    """Whether the database has a store's tables; an unreachable server is one line saying so."""
    try:
        return inspect(engine).has_table("store_info")
    except OperationalError as error:
        shown = engine.url.render_as_string(hide_password=True)
        reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
        raise DatabaseUnavailable(f"cannot reach the database {shown}: {reason}") from None


class DatabaseUnavailable(Unavailable):
    pass


class DatabaseDamaged(Unavailable):
    """The store's SQLite file fails its integrity check or cannot be read as a database."""
