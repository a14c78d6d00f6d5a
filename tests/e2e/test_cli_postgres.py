"""The CLI with its metadata in PostgreSQL: `--db URL` or XMODAL_DATABASE_URL, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def xmodal(*args: object, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200", **env}
    command = [sys.executable, "-m", "xmodal", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=environment, timeout=300)


def test_index_search_and_info_with_the_metadata_in_postgresql(
    tmp_path: Path, corpus: Path, tiny_clip_spec: str, postgres
) -> None:
    store, url = tmp_path / "store", postgres.new_database()
    first = xmodal("index", "--store", store, "--db", url, "--model", tiny_clip_spec, corpus, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "indexed 5, unchanged 0, failed 2" in first.stdout
    assert not (store / "xmodal.db").exists() and (store / "vectors").is_dir()
    again = xmodal("index", "--store", store, corpus, cwd=tmp_path, XMODAL_DATABASE_URL=url)
    assert "indexed 0, unchanged 5, failed 2" in again.stdout, again.stderr

    query = ("--text", "red", "-m", "image", "-k", "2", "--json")
    found = xmodal("search", "--store", store, *query, "--db", url, cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert [hit["modality"] for hit in json.loads(found.stdout)["results"]] == ["image", "image"]
    info = xmodal("info", "--store", store, "--json", cwd=tmp_path, XMODAL_DATABASE_URL=url)
    report = json.loads(info.stdout)
    assert report["database"].startswith("postgresql+psycopg://") and report["items"]["image"]["indexed"] == 3
    without = xmodal("info", "--store", store, cwd=tmp_path)
    assert without.returncode == 2 and "no xmodal store" in without.stderr
