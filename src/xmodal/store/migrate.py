"""Schema versions of the metadata database, as Alembic revisions (`migrations/versions/`).

A writer upgrades the database on open; a reader checks the revision and either works or refuses with
one line saying what to run (it never writes). Stores made before Alembic have no `alembic_version`
table: their revision is read off their tables, and a writer stamps it before upgrading.
Alembic is imported only when there is something to upgrade, so readers and current stores pay nothing.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from xmodal.store.records import StoreError
from xmodal.store.schema import SCHEMA_VERSION

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
REVISIONS = ("0001", "0002", "0003")  # in order; the last is what this code reads and writes
HEAD = REVISIONS[-1]  # == schema.SCHEMA_VERSION, the number store_info and `info` show


def revision(connection: Connection) -> str | None:
    """The database's revision; None for an empty database."""
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" in tables:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if {"items", "store_info"} <= tables:  # made before migrations: 1 had these two, 2 added duplicates
        if "duplicates" not in tables:
            return "0001"
        columns = {column["name"] for column in inspect(connection).get_columns("items")}
        return "0003" if "parent_id" in columns else "0002"
    return None


def upgrade(engine: Engine) -> list[str]:
    """Bring the database to HEAD (a writer's open, under the writer lock); returns the revisions applied."""
    with engine.begin() as connection:
        found = revision(connection)
        if found == HEAD and inspect(connection).has_table("alembic_version"):
            return []
        _refuse_newer(found, "this database")
        from alembic import command

        config = _config(connection)
        if found is not None and not inspect(connection).has_table("alembic_version"):
            command.stamp(config, found)  # a store made before migrations: record where it stands
        command.upgrade(config, HEAD)
    return list(REVISIONS[REVISIONS.index(found) + 1 :] if found else REVISIONS)


def check_readable(engine: Engine, directory: Path) -> None:
    """A reader's check: the database is at HEAD, or one clear line says what to run."""
    with engine.connect() as connection:
        found = revision(connection)
    if found == HEAD:
        return
    _refuse_newer(found, f"store {directory}")
    raise StoreError(
        f"store {directory} has database schema {int(found or 0)}; this xmodal reads schema {SCHEMA_VERSION}: "
        f"run `xmodal upgrade --store {directory}` once (an index job into it upgrades it too)"
    )


def _refuse_newer(found: str | None, what: str) -> None:
    if found is not None and found not in REVISIONS:
        raise StoreError(f"{what} has schema revision {found}, newer than this xmodal ({HEAD}); upgrade xmodal")


def _config(connection: Connection):  # -> alembic.config.Config
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config
