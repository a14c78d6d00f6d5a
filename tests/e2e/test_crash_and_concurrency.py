"""Kill -9 an index job at random points and resume; search a store while a job fills it."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import solid, tone
from tests.fakes import FakeEncoder
from xmodal.search import Searcher
from xmodal.store import Store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def big_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "big"
    root.mkdir()
    rng = random.Random(7)
    for n in range(60):
        solid(root / f"img{n:02d}.png", (rng.randrange(256), rng.randrange(256), rng.randrange(256)), size=(16 + n, 16))
    for n in range(12):
        tone(root / f"tone{n:02d}.wav", 100 + 400 * n, seconds=0.2)
    for n in range(30):
        (root / f"note{n:02d}.txt").write_text(f"note number {n} about {'red green blue'.split()[n % 3]}")
    (root / "dup.png").write_bytes((root / "img03.png").read_bytes())
    (root / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    return root


def start_job(store: Path, corpus: Path, slow: float, *options: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "tests.e2e.fake_index_job", str(store), str(corpus), "--slow", str(slow), *options]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def rows_in(store: Path) -> int:
    try:
        with sqlite3.connect(store / "xmodal.db", timeout=5) as connection:
            return connection.execute("select count(*) from items").fetchone()[0]
    except sqlite3.Error:
        return 0


def item_set(store: Path) -> set[tuple]:
    with sqlite3.connect(store / "xmodal.db") as connection:
        items = connection.execute("select path, modality, status, content_hash from items").fetchall()
        duplicates = connection.execute("select path from duplicates").fetchall()
    return {(os.fsdecode(path), modality, status, digest) for path, modality, status, digest in items} | {
        ("duplicate", os.fsdecode(p)) for (p,) in duplicates
    }


def check(store: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "xmodal", "check", "--store", str(store)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_kill_9_at_random_points_then_resume_ends_like_a_clean_run(tmp_path: Path, big_corpus: Path) -> None:
    clean = tmp_path / "clean"
    assert start_job(clean, big_corpus, 0).wait(timeout=120) == 0
    rng = random.Random(11)
    for trial in range(4):
        store = tmp_path / f"killed-{trial}"
        for _ in range(2):  # two kills in a row, then a resume that finishes
            job = start_job(store, big_corpus, slow=0.03)
            deadline = time.monotonic() + 60
            while rows_in(store) < 3 and job.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.4))
            job.send_signal(signal.SIGKILL)
            job.wait(timeout=30)
        finished = start_job(store, big_corpus, slow=0)
        assert finished.wait(timeout=120) == 0, finished.stderr.read()
        result = check(store)
        assert result.returncode == 0, result.stdout + result.stderr
        assert item_set(store) == item_set(clean)


def test_searches_during_a_running_job_see_new_items_without_restart(tmp_path: Path, big_corpus: Path) -> None:
    store_dir = tmp_path / "live"
    job = start_job(store_dir, big_corpus, slow=0.05)
    while rows_in(store_dir) == 0 and job.poll() is None:
        time.sleep(0.02)
    searcher = Searcher(Store.open(store_dir), FakeEncoder())
    seen_counts = []
    while job.poll() is None:
        hits = searcher.search_text("red", k=200)
        assert all(hit.path is not None or hit.text for hit in hits)  # every hit hydrates
        seen_counts.append(len(hits))
        time.sleep(0.05)
    assert job.returncode == 0
    final = len(searcher.search_text("red", k=200))
    assert final == 60 + 12 + 30  # every item, the duplicate and the broken file excluded
    assert min(seen_counts) < final and seen_counts == sorted(seen_counts)  # grew while the job ran


def test_kill_9_of_a_ray_driver_then_resume_ends_like_a_clean_run(tmp_path: Path, big_corpus: Path) -> None:
    """The same guarantee with the embed stage on a local Ray cluster (skipped without Ray)."""
    pytest.importorskip("ray", reason="Ray is not installed (optional extra: pip install 'xmodal[ray]')")
    clean, store = tmp_path / "clean", tmp_path / "killed"
    assert start_job(clean, big_corpus, 0).wait(timeout=120) == 0
    job = start_job(store, big_corpus, 0.05, "--ray")
    deadline = time.monotonic() + 120
    while rows_in(store) < 10 and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    job.send_signal(signal.SIGKILL)
    job.wait(timeout=30)
    assert 0 < rows_in(store) < len(item_set(clean)), "the kill should land in the middle of the job"
    finished = start_job(store, big_corpus, 0, "--ray")
    assert finished.wait(timeout=180) == 0, finished.stderr.read()
    result = check(store)
    assert result.returncode == 0, result.stdout + result.stderr
    assert item_set(store) == item_set(clean)
