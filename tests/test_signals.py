"""SIGTERM stops an index job at its next settled item: what was indexed is saved and searchable,
the writer lock is released, and running the job again goes on from there (issue 8)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.runner import command, environment
from tests.fakes import FakeEncoder
from xmodal.config import Settings
from xmodal.engine import Engine
from xmodal.signals import StopOnSignal, Stopped
from xmodal.store import Store


def test_sigterm_stops_a_job_at_a_safe_point_and_the_store_is_saved(corpus: Path, settings: Settings) -> None:
    def terminate_at_the_third_item(progress) -> None:
        if progress.stage == "indexing" and progress.processed == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)  # not always SIG_DFL: ray.init, run earlier in CI, sets its own
    with StopOnSignal() as stop, Engine(settings, encoder=FakeEncoder()) as engine:
        with pytest.raises(Stopped, match="SIGTERM"):
            engine.index([corpus], on_progress=stop.checking(terminate_at_the_third_item))
    assert signal.getsignal(signal.SIGTERM) is before  # restored as it was
    store = Store.open(settings.store, writable=True)  # the writer lock was released
    saved = sum(counts.get("indexed", 0) for counts in store.counts().values())
    assert 3 <= saved < 7 and store.verify() == []  # the items before the stop are searchable
    store.close()
    with Engine(settings, encoder=FakeEncoder()) as engine:
        again = engine.index([corpus])
    assert again.indexed == 7 - saved and again.unchanged == saved


def test_a_second_sigterm_ends_the_process_at_once(tmp_path: Path) -> None:
    program = (
        "import os, signal, time\n"
        "from xmodal.signals import StopOnSignal\n"
        "with StopOnSignal() as stop:\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    assert stop.requested.is_set()\n"
        "    print('first one only asked', flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    time.sleep(60)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=environment(), timeout=60
    )
    assert result.stdout == "first one only asked\n" and result.returncode == -signal.SIGTERM


def rows_in(database: Path) -> int:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute("SELECT count(*) FROM items").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def test_xmodal_index_on_sigterm_says_so_and_leaves_a_sound_store(tmp_path: Path, tiny_clip_spec: str) -> None:
    manifest = tmp_path / "many.jsonl"  # far more than a busy machine indexes before the signal lands
    manifest.write_text("".join(json.dumps({"text": f"note number {n}"}) + "\n" for n in range(20_000)))
    store = tmp_path / "store"
    arguments = ("index", "--store", store, "--model", tiny_clip_spec, "--batch-size", "8", manifest)
    job = subprocess.Popen(command(*arguments), cwd=tmp_path, env=environment(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while rows_in(store / "xmodal.db") == 0 and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    job.send_signal(signal.SIGTERM)
    out, err = job.communicate(timeout=300)
    assert job.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM after" in err and "run the same command to go on" in err and "Traceback" not in err
    checked = subprocess.run(command("check", "--store", store), capture_output=True, text=True, env=environment())
    assert checked.returncode == 0, checked.stdout  # the lock is free and the store is consistent
