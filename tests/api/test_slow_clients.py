"""Issue 8 #9: slow and many clients. A connection must send its request head whole within a deadline
(dribbling does not extend it), one address cannot hold every connection, and a client that leaves
mid-request is an INFO line at most once per interval, not a 500 with a traceback. A real uvicorn
server on loopback; no assertion on how long anything takes (waits are only bounds against hanging)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import Iterator

import pytest
import uvicorn
from fastapi import FastAPI, Request

from xmodal.api.observability import RateLimitedLog
from xmodal.api.server import uvicorn_config
from xmodal.config import Settings
from xmodal.listener import listen

HANG_GUARD = 30.0  # seconds: only a broken server comes near this


@pytest.fixture
def server(tmp_path) -> Iterator[callable]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(**limits: object) -> tuple[str, int]:
        app = FastAPI()
        app.get("/")(lambda: {"ok": True})

        @app.post("/echo")
        async def echo(request: Request) -> dict:
            return {"bytes": len(await request.body())}

        listener = listen("127.0.0.1", 0)
        running = uvicorn.Server(uvicorn_config(app, listener, Settings(store=tmp_path, **limits)))
        thread = threading.Thread(target=running.run, kwargs={"sockets": [listener]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + HANG_GUARD
        while not running.started and time.monotonic() < deadline:
            time.sleep(0.02)
        servers.append((running, thread))
        return listener.getsockname()[:2]

    yield start
    for running, thread in servers:
        running.should_exit = True
        thread.join(HANG_GUARD)


def connect(address: tuple[str, int], source: str = "127.0.0.1") -> socket.socket:
    connection = socket.create_connection(address, timeout=HANG_GUARD, source_address=(source, 0))
    return connection


def get(address: tuple[str, int]) -> bytes:
    with connect(address) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        return b"".join(iter(lambda: connection.recv(65536), b""))


def closed_by_server(connection: socket.socket) -> bool:
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True


def test_a_request_head_dribbled_a_byte_at_a_time_is_cut_off(server) -> None:
    address = server(header_timeout_seconds=0.5)
    with connect(address) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n")
        connection.settimeout(0.1)
        deadline = time.monotonic() + HANG_GUARD
        closed = False
        while not closed and time.monotonic() < deadline:
            try:
                connection.sendall(b"X")  # a slowloris: never a complete head, always a little more
                closed = connection.recv(1) == b""
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
        assert closed
    assert get(address).startswith(b"HTTP/1.1 200")


def test_one_address_cannot_take_every_connection(server) -> None:
    address = server(max_connections_per_client=3, header_timeout_seconds=HANG_GUARD * 4)
    try:
        idle = [connect(address, source="127.0.0.2") for _ in range(3)]
    except OSError as error:  # pragma: no cover - a loopback without 127.0.0.2
        pytest.skip(f"cannot connect from 127.0.0.2: {error}")
    for connection in idle:
        connection.sendall(b"GET / HTTP/1.1\r\n")  # and never the rest
    with connect(address, source="127.0.0.2") as one_too_many:
        assert closed_by_server(one_too_many)
    assert get(address).startswith(b"HTTP/1.1 200")  # another client is still served
    for connection in idle:
        connection.close()


def test_a_body_that_stops_arriving_is_cut_off(server) -> None:
    address = server(body_timeout_seconds=0.5)
    with connect(address) as connection:
        connection.sendall(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
        assert closed_by_server(connection)  # after a silence, with 90 bytes never sent
    with connect(address) as connection:  # a whole body is answered
        connection.sendall(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
        assert b'{"bytes":3}' in b"".join(iter(lambda: connection.recv(65536), b""))


def test_connections_beyond_the_cap_are_closed_at_once(server) -> None:
    address = server(max_connections=3, max_connections_per_client=0, header_timeout_seconds=HANG_GUARD * 4)
    idle = [connect(address) for _ in range(3)]
    for connection in idle:
        connection.sendall(b"GET / HTTP/1.1\r\n")
    with connect(address) as one_too_many:
        assert closed_by_server(one_too_many)
    idle.pop().close()
    deadline = time.monotonic() + HANG_GUARD  # the server notices the close on its next loop turn
    answer = b""
    while not answer.startswith(b"HTTP/1.1 200") and time.monotonic() < deadline:
        try:
            answer = get(address)
        except ConnectionResetError:  # refused: the closed slot is not free yet
            time.sleep(0.05)
    assert answer.startswith(b"HTTP/1.1 200")
    for connection in idle:
        connection.close()


def test_a_request_head_over_the_limit_is_refused(server) -> None:
    address = server(max_header_bytes=2048)
    with connect(address) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * 4096)  # buffered, not yet whole
        assert connection.recv(65536).startswith(b"HTTP/1.1 400")


def test_uvicorns_warning_per_bad_request_is_rate_limited(server) -> None:
    address = server()
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("uvicorn.error").addHandler(handler)
    try:
        for _ in range(5):
            with connect(address) as connection:
                connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")
                assert connection.recv(65536).startswith(b"HTTP/1.1 400")
    finally:
        logging.getLogger("uvicorn.error").removeHandler(handler)
    assert len([line for line in seen if line.startswith("Invalid HTTP request")]) <= 1


def test_rate_limited_log_says_how_many_it_left_out(caplog) -> None:
    now = [0.0]
    note = RateLimitedLog(logging.getLogger("xmodal.test"), interval=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="xmodal.test"):
        for _ in range(5):
            note("gone", "a client left")
        now[0] = 11.0
        note("gone", "a client left")
        note("other", "something else")
    assert [record.getMessage() for record in caplog.records] == [
        "a client left",
        "a client left (and 4 more like it in the last 10 s)",
        "something else",
    ]


def test_clients_leaving_mid_upload_are_not_500s_and_log_one_info_line(serve, caplog) -> None:
    app = serve().app
    sent: list[dict] = []

    async def upload_then_leave() -> None:
        messages = [
            {"type": "http.request", "body": b'--xx\r\nContent-Disposition: form-data; name="file"', "more_body": True},
            {"type": "http.disconnect"},
        ]

        async def receive() -> dict:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        headers = [(b"content-type", b"multipart/form-data; boundary=xx"), (b"host", b"testserver")]
        scope = {
            "type": "http", "method": "POST", "path": "/search", "raw_path": b"/search", "query_string": b"",
            "headers": headers, "client": ("10.0.0.9", 1234), "server": ("testserver", 80), "scheme": "http",
            "root_path": "", "http_version": "1.1", "asgi": {"version": "3.0"},
        }
        await app(scope, receive, send)

    with caplog.at_level(logging.INFO, logger="xmodal"):
        for _ in range(20):
            asyncio.run(upload_then_leave())
    assert not [message for message in sent if message.get("status") == 500]
    lines = [record for record in caplog.records if "left before its request was read" in record.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
