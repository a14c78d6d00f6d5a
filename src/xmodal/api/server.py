"""How `xmodal serve` runs the app under uvicorn, with the limits uvicorn lacks for slow or many clients.

uvicorn (h11) closes idle keep-alive connections, but waits forever for a request's headers and body,
and accepts every connection: 1,100 slow connections made a server unreachable (issue 8 #9). The
protocol here closes a connection that has not sent a complete request head within
`header_timeout_seconds` (a total deadline, so dribbling a byte at a time does not extend it) or that
goes silent for `body_timeout_seconds` while a body arrives, and refuses (closes at once) a connection
beyond `max_connections` in all or `max_connections_per_client` from one address, so one client cannot
take every slot. Those events are logged at most once per interval, with a count (`RateLimitedLog`).
"""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
from collections import Counter
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from xmodal.api.observability import RateLimitedLog, RateLimitFilter
from xmodal.config import Settings

SHUTDOWN_SECONDS = 10  # SIGTERM: requests in flight get this long, then the server stops
SPARE_FILES = 128  # open files kept for the store, the model, logs and threads beside the connections
BACKLOG, MIN_BACKLOG = 2048, 64  # connections waiting to be accepted (uvicorn's default), and the least we take

log = logging.getLogger("xmodal.api.connections")


def connection_limits(wanted: int) -> tuple[int, int]:
    """(connections, accept backlog) that fit the process's open-file limit, raised towards the hard limit
    if need be. asyncio accepts up to `backlog` connections in one go before any is closed, so both count:
    past the limit, accept() fails in a loop that logs a traceback each time and answers nobody."""
    soft = _raise_open_files(wanted + BACKLOG + SPARE_FILES)
    room = soft - SPARE_FILES
    backlog = max(MIN_BACKLOG, min(BACKLOG, room - wanted))
    cap = max(1, min(wanted, room - backlog))
    if cap < wanted:
        log.warning("max_connections lowered to %d: this process may open only %d files", cap, soft)
    return cap, backlog


def _raise_open_files(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return needed
    raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
    return raised


def guarded_protocol(settings: Settings, max_connections: int, note: RateLimitedLog | None = None) -> type[H11Protocol]:
    """An h11 protocol class bound to these limits (uvicorn instantiates it per connection)."""
    note = note or RateLimitedLog(log)
    per_client: Counter[str] = Counter()  # open connections by client address, for this server

    class GuardedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _address: str | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            address = self.client[0] if self.client else "?"
            limit = settings.max_connections_per_client
            if len(self.connections) > max_connections:
                note("connection_refused", f"refused a connection from {address}: {max_connections} "
                     "connections are open (max_connections)", logging.WARNING)
                transport.close()
                return
            if limit and per_client[address] >= limit:
                note("connection_refused_client", f"refused a connection from {address}: it has {limit} open "
                     "(max_connections_per_client)", logging.WARNING)
                transport.close()
                return
            self._address = address
            per_client[address] += 1
            self._arm(settings.header_timeout_seconds, "a complete request head")

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if self._address is not None:
                per_client[self._address] -= 1
                if per_client[self._address] <= 0:
                    del per_client[self._address]
                self._address = None
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            state = self.conn.their_state
            if state is h11.SEND_BODY:  # silence while a body arrives is limited, not the whole upload
                self._arm(settings.body_timeout_seconds, "more of the request body", restart=True)
            elif state is h11.IDLE:  # a request head is still arriving: its deadline runs on
                self._arm(settings.header_timeout_seconds, "a complete request head")
            else:
                self._disarm()

        def on_response_complete(self) -> None:
            self._disarm()  # uvicorn's keep-alive timeout covers the quiet time before the next request
            super().on_response_complete()

        def _arm(self, seconds: float, waiting_for: str, restart: bool = False) -> None:
            if self._deadline is not None and not restart:
                return
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._too_slow, seconds, waiting_for)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self, seconds: float, waiting_for: str) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            if self.flow is not None and self.flow.read_paused:  # the app is not reading: not the client's fault
                self._arm(seconds, waiting_for)
                return
            note("connection_timeout", f"closed a connection from {self._address}: no {waiting_for} in {seconds:g} s")
            self.transport.close()

    return GuardedH11Protocol


def uvicorn_config(application: Any, listener: socket.socket, settings: Settings) -> uvicorn.Config:
    host, port = listener.getsockname()[:2]
    uvicorn_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(found, RateLimitFilter) for found in uvicorn_log.filters):
        uvicorn_log.addFilter(RateLimitFilter(RateLimitedLog(uvicorn_log)))  # its per-request warnings
    max_connections, backlog = connection_limits(settings.max_connections)
    return uvicorn.Config(
        application,
        host=host,
        port=port,
        backlog=backlog,
        http=guarded_protocol(settings, max_connections),
        log_level="info",
        access_log=False,  # the app logs each request itself
        timeout_keep_alive=max(1, round(settings.keep_alive_seconds)),
        h11_max_incomplete_event_size=settings.max_header_bytes,  # a longer request head is answered 400
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
    )
