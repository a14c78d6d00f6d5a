"""Run the xmodal CLI as a user does: in a subprocess, through a pipe or in a pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def environment(**changes: str | None) -> dict[str, str]:
    """The test environment: offline, no inherited terminal width; a None value removes a variable."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def command(*args: object) -> list[str]:
    return [sys.executable, "-m", "xmodal", *map(str, args)]


def xmodal(*args: object, cwd: Path, timeout: float = 300, **env: str | None) -> subprocess.CompletedProcess:
    """stdout and stderr are pipes, as in a script or CI log."""
    return subprocess.run(
        command(*args), capture_output=True, text=True, cwd=cwd, env=environment(**env), timeout=timeout
    )


def xmodal_in_terminal(*args: object, cwd: Path, columns: int = 60, timeout: float = 300) -> tuple[int, str]:
    """stdin, stdout and stderr are one terminal `columns` wide; returns the exit status and
    everything written, with terminal control codes removed and line ends as "\\n"."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(
        command(*args), stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=environment(TERM="xterm"), close_fds=True
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        if process.poll() is None and time.monotonic() >= deadline:
            process.kill()
    code = process.wait(timeout=30)
    return code, plain(b"".join(chunks).decode("utf-8", "replace"))


def plain(text: str) -> str:
    return ANSI.sub("", text).replace("\r\n", "\n")


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]
