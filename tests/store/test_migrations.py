"""Schema migrations: Alembic revisions reproduce the tables; writers upgrade, readers check and refuse
with what to run; stores made before Alembic are recognised and stamped."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from tests.fakes import DIM
from xmodal.api import create_app
from xmodal.config import Settings
from xmodal.store import Store, StoreError
from xmodal.store.migrate import HEAD, MIGRATIONS, REVISIONS, _config
from xmodal.store.schema import SCHEMA_VERSION, Base

MODEL = {"spec": "fake", "version": "1", "dim": DIM}
ROOT = Path(__file__).resolve().parents[2]
V1_SCHEMA = """
CREATE TABLE items (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, external_id VARCHAR, modality VARCHAR(8) NOT NULL, path BLOB,
    text TEXT, content_hash VARCHAR(64), size INTEGER, mtime FLOAT, metadata JSON NOT NULL, status VARCHAR(8) NOT NULL,
    error TEXT, created_at DATETIME NOT NULL, UNIQUE (external_id), UNIQUE (path));
CREATE INDEX ix_items_content_hash ON items (content_hash);
CREATE INDEX ix_items_modality ON items (modality);
CREATE INDEX ix_items_status ON items (status);
CREATE TABLE store_info ("key" VARCHAR NOT NULL, value JSON NOT NULL, PRIMARY KEY ("key"));
"""


def v1_store(directory: Path) -> Path:
    """A store as xmodal 0.1 made it before the duplicates table: plain SQL, one text item, no vectors."""
    directory.mkdir(parents=True)
    with sqlite3.connect(directory / "xmodal.db") as connection:
        connection.executescript(V1_SCHEMA)
        connection.executemany(
            "INSERT INTO store_info VALUES (?, ?)", [("schema_version", "1"), ("model", json.dumps(MODEL))]
        )
        connection.execute(
            "INSERT INTO items (modality, text, content_hash, metadata, status, created_at) "
            "VALUES ('text', 'a red barn', 'h', '{}', 'indexed', '2024-01-01 00:00:00')"
        )
    return directory


def xmodal(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "xmodal", *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def tables(directory: Path) -> set[str]:
    with sqlite3.connect(directory / "xmodal.db") as connection:
        return {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_the_revisions_are_the_schema(tmp_path: Path, database_url: str | None) -> None:
    script = ScriptDirectory.from_config(_config(None))  # type: ignore[arg-type]
    assert [rev.revision for rev in reversed(list(script.walk_revisions()))] == list(REVISIONS)
    assert script.get_current_head() == HEAD and int(HEAD) == SCHEMA_VERSION and MIGRATIONS.is_dir()
    store = Store.open(tmp_path, MODEL, writable=True, database_url=database_url)
    keyword_index = ("items_fts", "ix_items_keyword")  # FTS5's table, PostgreSQL's GIN index: not mapped tables
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
        context = MigrationContext.configure(
            connection, opts={"include_name": lambda name, *_: not (name or "").startswith(keyword_index)}
        )
        assert compare_metadata(context, Base.metadata) == []  # the migrations build exactly the tables the code maps
    assert store.upgraded == list(REVISIONS)
    store.close()


def test_a_v1_store_is_refused_by_readers_with_what_to_run_then_upgraded(tmp_path: Path) -> None:
    store = v1_store(tmp_path / "old")
    with pytest.raises(
        StoreError, match=r"has database schema 1; this xmodal reads schema 3: run `xmodal upgrade --store"
    ):
        Store.open(store)
    with pytest.raises(StoreError, match="xmodal upgrade"):
        create_app(Settings(store=store))  # what `xmodal serve` does first
    for command in (("search", "--store", store, "--text", "red"), ("info", "--store", store)):
        result = xmodal(*command)
        assert result.returncode == 2 and "xmodal upgrade --store" in result.stderr, result.stderr
        assert "no such table" not in result.stderr and "Traceback" not in result.stderr
    assert tables(store) == {"items", "store_info", "sqlite_sequence"}  # readers never write
    upgraded = xmodal("upgrade", "--store", store)
    assert upgraded.returncode == 0 and "schema 3, upgraded (applied 0002, 0003)" in upgraded.stdout, upgraded.stderr
    assert "duplicates" in tables(store) and "already current" in xmodal("upgrade", "--store", store).stdout
    reader = Store.open(store)
    assert reader.counts() == {"text": {"indexed": 1}} and reader.info("schema_version") == 3
    info = json.loads(xmodal("info", "--store", store, "--json").stdout)
    assert info["schema_version"] == 3 and info["items"] == {"text": {"indexed": 1}}


def test_a_store_made_before_alembic_is_read_as_it_is_and_stamped_by_a_writer(tmp_path: Path) -> None:
    Store.open(tmp_path, MODEL, writable=True).close()
    with sqlite3.connect(tmp_path / "xmodal.db") as connection:
        connection.execute("DROP TABLE alembic_version")  # as 0.1 left a schema-2 store
    assert Store.open(tmp_path).model == MODEL and "alembic_version" not in tables(tmp_path)
    writer = Store.open(tmp_path, MODEL, writable=True)
    assert writer.upgraded == [] and "alembic_version" in tables(tmp_path)
    writer.close()
    with sqlite3.connect(tmp_path / "xmodal.db") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]


def test_a_newer_revision_is_refused(tmp_path: Path) -> None:
    Store.open(tmp_path, MODEL, writable=True).close()
    with sqlite3.connect(tmp_path / "xmodal.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099'")
    for writable in (False, True):
        with pytest.raises(StoreError, match="revision 0099, newer than this xmodal"):
            Store.open(tmp_path, MODEL if writable else None, writable=writable)
