"""Issue 8 #6, as a user meets it: a FIFO named in a manifest fails its line instead of hanging
`xmodal index` or a server's job (and with it the writer lock), and the server stops on SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.e2e.conftest import Indexed
from tests.e2e.runner import command, environment, xmodal
from tests.e2e.test_serve import free_port, read_until

KEY = "e2e-key-0123"


def manifest_with_a_fifo(folder: Path) -> Path:
    folder.mkdir()
    (folder / "note.txt").write_text("A pipe organ in an empty church.")
    os.mkfifo(folder / "pipe.txt")
    manifest = folder / "list.jsonl"
    manifest.write_text(json.dumps({"path": "pipe.txt"}) + "\n" + json.dumps({"path": "note.txt"}) + "\n")
    return manifest


def release(fifo: Path) -> None:
    """A writer that opens and closes at once lets a reader blocked on the FIFO go (cleanup after a failure)."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


def call(port: int, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"X-API-Key": KEY, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.loads(reply.read())


def test_index_fails_a_fifo_in_a_manifest_and_goes_on(tmp_path: Path, tiny_clip_spec: str) -> None:
    manifest = manifest_with_a_fifo(tmp_path / "in")
    try:
        store = tmp_path / "store"
        result = xmodal("index", "--store", store, "--model", tiny_clip_spec, manifest, cwd=tmp_path, timeout=120)
    finally:
        release(tmp_path / "in" / "pipe.txt")
    assert result.returncode == 0, result.stderr
    assert "indexed 1," in result.stdout and "failed 1" in result.stdout
    assert "pipe.txt" in result.stderr and "not a regular file" in result.stderr


def test_a_server_job_fails_a_fifo_and_the_server_stops_on_sigterm(tmp_path: Path, indexed: Indexed) -> None:
    store = tmp_path / "store"
    shutil.copytree(indexed.store, store)
    manifest = manifest_with_a_fifo(tmp_path / "in")
    port = free_port()
    env = environment(XMODAL_API_KEY=KEY, XMODAL_ALLOWED_ROOTS=str(tmp_path / "in"))
    server = subprocess.Popen(
        command("serve", "--store", store, "--port", port),
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert read_until(server, f"http://127.0.0.1:{port}/", timeout=120)
        job = call(port, "POST", "/jobs", {"paths": [str(manifest)]})
        deadline = time.monotonic() + 60
        while job["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.1)
            job = call(port, "GET", f"/jobs/{job['id']}")
        assert job["status"] == "done" and (job["indexed"], job["failed"]) == (1, 1), job
        assert "not a regular file" in job["failures"][0]["reason"]
        server.send_signal(signal.SIGTERM)
        # uvicorn shuts the app down, then ends by the signal it caught, as a process stopped by it does
        assert server.wait(timeout=60) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in server.stderr.read()
    finally:
        release(tmp_path / "in" / "pipe.txt")
        if server.poll() is None:
            server.kill()
            server.wait()
