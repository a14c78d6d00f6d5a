"""Stopping a long command cleanly on SIGTERM (what `kill`, systemd and container runtimes send).

The first SIGTERM only sets a flag; the job sees it at its next settled item (a point where the store
is consistent), raises `Stopped`, and its store closes as after any job: vector files saved, rows
made searchable, writer lock released. A second SIGTERM ends the process at once (the old default):
for a job stuck where no item settles, the store is crash-safe and the OS drops the lock.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class Stopped(Exception):
    """The command was asked to stop (SIGTERM) and did, at a safe point."""


class StopOnSignal:
    """`with StopOnSignal() as stop:` ... `stop.check()` (or a callback wrapped by `stop.checking`)
    raises Stopped once SIGTERM has arrived. Installs its handler only in the main thread."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        self.signum = signum
        self.requested = threading.Event()
        self._previous: Any = None

    def __enter__(self) -> "StopOnSignal":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(self.signum, self._on_signal)
        return self

    def __exit__(self, *_: object) -> None:
        if self._previous is not None:
            signal.signal(self.signum, self._previous)
            self._previous = None

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.requested.set()
        signal.signal(signum, signal.SIG_DFL)  # a second one ends the process at once

    def check(self) -> None:
        if self.requested.is_set():
            raise Stopped(signal.Signals(self.signum).name)

    def checking(self, callback: Callable[[T], None]) -> Callable[[T], None]:
        """`callback`, which first raises Stopped if a stop was asked for."""

        def checked(value: T) -> None:
            self.check()
            callback(value)

        return checked
