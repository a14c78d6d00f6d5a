"""Issue 8 #6: what a job opens is a regular file reached without links; a FIFO, a device or a link
swapped in after the walk is a recorded failure, never a hang that holds the writer lock."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Callable

import pytest

from tests.conftest import solid
from tests.fakes import FakeEncoder
from xmodal.encoders.media import load_text
from xmodal.engine import Engine
from xmodal.indexer import Source
from xmodal.indexer.decode import decode, hash_source
from xmodal.modalities import Limits

LIMITS = Limits(50_000_000, 64, 5.0, 1000)


def bounded(call: Callable[[], object], fifos: list[Path]) -> object:
    """call() in a thread; if it hangs on a FIFO, writers let it go so that the test fails, not hangs.
    An exception it raises is returned."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except Exception as error:  # noqa: BLE001 - handed to the test
            outcome["result"] = error

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)
    hung = worker.is_alive()
    for _ in range(200):  # release readers blocked in open(): writers that open and close at once
        for fifo in fifos:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        worker.join(0.05)
    assert not hung, "hung on a FIFO"
    return outcome["result"]


def index_bounded(settings, paths: list[Path], fifos: list[Path]) -> object:
    def index() -> object:
        with Engine(settings, encoder=FakeEncoder()) as engine:
            return engine.index(paths)

    return bounded(index, fifos)


def test_a_fifo_in_a_manifest_is_a_failure_not_a_hang(tmp_path: Path, settings) -> None:
    solid(tmp_path / "cow.png", (120, 90, 60))
    os.mkfifo(tmp_path / "pipe.txt")
    os.mkfifo(tmp_path / "pipe.png")
    manifest = tmp_path / "list.jsonl"
    manifest.write_text("\n".join(json.dumps({"path": name}) for name in ["pipe.txt", "cow.png", "pipe.png"]))
    summary = index_bounded(settings, [manifest], [tmp_path / "pipe.txt", tmp_path / "pipe.png"])
    assert summary.indexed == 1 and summary.failed == 2
    assert all("not a regular file" in reason for _, reason in summary.failures), summary.failures


def test_a_fifo_given_as_a_path_is_a_failure_not_a_hang(tmp_path: Path, settings) -> None:
    solid(tmp_path / "cow.png", (120, 90, 60))
    os.mkfifo(tmp_path / "pipe.jsonl")
    summary = index_bounded(settings, [tmp_path / "cow.png", tmp_path / "pipe.jsonl"], [tmp_path / "pipe.jsonl"])
    assert summary.indexed == 1 and summary.failed == 1
    assert "not a regular file" in summary.failures[0][1]


@pytest.mark.parametrize("stage", ["hash", "decode"])
def test_a_link_swapped_in_after_the_walk_is_not_read(tmp_path: Path, stage: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0")
    walked = tmp_path / "notes.txt"
    walked.symlink_to(secret)  # the walk recorded a plain file here; a link replaced it since
    source = Source("text", str(walked))
    if stage == "hash":
        hashed = hash_source(source)
        assert hashed.content_hash == "" and "link" in hashed.error
    else:
        media, reason = decode(source, LIMITS)
        assert media is None and "link" in reason


def test_loaders_refuse_special_files_without_hanging(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    for path in [tmp_path / "pipe.txt", Path("/dev/zero")]:
        error = bounded(lambda path=path: load_text(str(path), 100), [tmp_path / "pipe.txt"])
        assert isinstance(error, OSError) and "not a regular file" in str(error), error
