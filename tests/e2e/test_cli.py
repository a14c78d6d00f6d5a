"""The CLI in a subprocess, as a user runs it (tiny open_clip model from local files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def xmodal(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    command = [sys.executable, "-m", "xmodal", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_index_then_search_from_the_command_line(tmp_path: Path, corpus: Path, tiny_clip_spec: str) -> None:
    store = tmp_path / "store"
    (corpus / "img" / "broken.png").write_bytes(b"nope")
    first = xmodal("index", "--store", store, "--model", tiny_clip_spec, corpus, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "indexed 5, unchanged 0, failed 3" in first.stdout
    assert "broken.png: not a readable image" in first.stderr
    assert "no audio tower" in first.stderr
    again = xmodal("index", "--store", store, corpus, cwd=tmp_path)
    assert "indexed 0, unchanged 5, failed 3" in again.stdout

    found = xmodal(
        "search", "--store", store, "--text", "red", "--modality", "image", "-k", "2", "--json", cwd=tmp_path
    )
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)["results"]
    assert len(results) == 2 and all(r["modality"] == "image" for r in results)
    assert {"id", "external_id", "modality", "path", "text", "score", "metadata"} <= set(results[0])

    queries = tmp_path / "q.jsonl"
    queries.write_text(
        json.dumps({"qid": 1, "image": str(corpus / "img" / "red.png"), "k": 3})
        + "\n"
        + json.dumps({"qid": 2, "audio": str(corpus / "snd" / "low.wav")})
        + "\n"
        + json.dumps({"qid": 3, "item": results[0]["id"], "modality": ["text"]})
        + "\n"
    )
    batch = xmodal("search", "--store", store, "--queries", queries, "--json", cwd=tmp_path)
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [line["qid"] for line in lines] == [1, 2, 3]
    assert len(lines[0]["results"]) == 3
    assert "no audio tower" in lines[1]["error"]
    assert all(r["modality"] == "text" for r in lines[2]["results"])

    table = xmodal("search", "--store", store, "--text", "a low hum", cwd=tmp_path)
    assert table.returncode == 0 and "score" in table.stdout


def test_user_errors_exit_2_without_a_traceback(tmp_path: Path, corpus: Path) -> None:
    cases = [
        ("search", "--store", tmp_path / "none", "--text", "x"),
        ("search", "--store", tmp_path / "none"),
        ("index", "--store", tmp_path / "s", "--model", "no-such-model", corpus),
    ]
    for args in cases:
        result = xmodal(*args, cwd=tmp_path)
        assert result.returncode == 2, result
        assert "error" in result.stderr.lower() and "Traceback" not in result.stderr


def test_help_explains_the_commands(tmp_path: Path) -> None:
    result = xmodal("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("index", "search", "serve", "models"):
        assert command in result.stdout


def test_check_reports_and_repairs_and_info_describes(tmp_path: Path, corpus: Path) -> None:
    import numpy as np

    from tests.fakes import FakeEncoder
    from xmodal.config import Settings
    from xmodal.indexer import IndexJob, collect_sources
    from xmodal.store import Store

    encoder = FakeEncoder()
    store = Store.open(tmp_path / "s", encoder.info.identity(), writable=True)
    IndexJob(store, encoder, Settings(store=tmp_path / "s", workers=0)).run(collect_sources([corpus]))
    assert xmodal("check", "--store", tmp_path / "s", cwd=tmp_path).returncode == 2  # a job holds the lock
    store.vectors("image").add(np.array([777]), np.ones((1, 16), dtype=np.float32))
    store.close()

    broken = xmodal("check", "--store", tmp_path / "s", cwd=tmp_path)
    assert broken.returncode == 1 and "problem: image: 1 vectors have no indexed row" in broken.stdout
    fixed = xmodal("check", "--store", tmp_path / "s", "--repair", cwd=tmp_path)
    assert fixed.returncode == 0 and "repaired: removed 1 image vectors" in fixed.stdout and "ok:" in fixed.stdout
    assert xmodal("check", "--store", tmp_path / "s", cwd=tmp_path).returncode == 0

    info = xmodal("info", "--store", tmp_path / "s", cwd=tmp_path)
    assert info.returncode == 0
    assert "image   3 indexed, 0 failed; index Flat, 3 vectors" in info.stdout
    report = json.loads(xmodal("info", "--store", tmp_path / "s", "--json", cwd=tmp_path).stdout)
    assert report["indexes"]["audio"]["vectors"] == 2 and report["bytes_on_disk"] > 0
