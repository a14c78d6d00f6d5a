"""Issue 11: `xmodal serve` binds its port before it announces the URL, and a taken port is one line."""

from __future__ import annotations

import selectors
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.e2e.conftest import Indexed
from tests.e2e.runner import command, environment, error_lines, xmodal


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def read_until(process: subprocess.Popen, marker: str, timeout: float) -> list[str]:
    """stderr lines up to and including the first holding `marker` (or all of them if the process ends)."""
    lines: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not selector.select(timeout=1.0):
            continue
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            break
    return lines


def test_serve_is_listening_when_it_announces_the_url(tmp_path: Path, indexed: Indexed) -> None:
    port = free_port()
    server = subprocess.Popen(
        command("serve", "--store", indexed.store, "--port", port),
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        announced = read_until(server, f"http://127.0.0.1:{port}/", timeout=120)
        assert announced and f"http://127.0.0.1:{port}/" in announced[-1], announced
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # at once: no retry
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=60) as reply:
            assert reply.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_on_a_taken_port_fails_at_once_in_one_line(tmp_path: Path, broken_model_store: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # this store's model cannot load: the port error proves the port is tried first
        result = xmodal("serve", "--store", broken_model_store, "--port", port, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("xmodal: error: "), result.stderr
    assert str(port) in lines[0] and "in use" in lines[0]
    assert "serving" not in result.stderr
