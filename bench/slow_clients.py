"""Is a server still reachable while a crowd of slow clients holds connections open?

    python bench/slow_clients.py [--idle 1100] [--nofile 1024] [--per-client 50] [--plain]

Serves a one-route app the way `xmodal serve` does (`xmodal.api.server.uvicorn_config`; `--plain`: uvicorn's
own defaults, as xmodal 0.1 ran it) in a child process whose open-file limit is `--nofile` (1024 is the
usual default soft limit), opens `--idle` connections from 127.0.0.2 that each send half a request head
and then nothing (a slowloris; `--per-client 0` lifts the cap per address, as if they came from many),
and then times GET / from 127.0.0.1 (at most 10 s). It prints how many
idle connections the server still holds open when the GET is answered (or not). Shared-machine timings:
indicative only. Then, for xmodal's limits, GET / once more after the slow clients' head deadline.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import textwrap
import time

from xmodal.config import Settings

SERVER = textwrap.dedent("""
    import resource, sys
    import uvicorn
    from fastapi import FastAPI
    from xmodal.api.server import uvicorn_config
    from xmodal.config import Settings
    from xmodal.listener import listen
    nofile, plain, per_client = int(sys.argv[1]), sys.argv[2] == "plain", int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    app = FastAPI()
    app.get("/")(lambda: {"ok": True})
    listener = listen("127.0.0.1", 0)
    print(listener.getsockname()[1], flush=True)
    if plain:
        config = uvicorn.Config(app, log_level="warning")
    else:
        config = uvicorn_config(app, listener, Settings(store="unused", max_connections_per_client=per_client))
        config.log_level = "warning"
    uvicorn.Server(config).run(sockets=[listener])
""")


def get(port: int, timeout: float) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
            connection.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            reply = connection.recv(64)
        answer = reply.split(b"\r\n", 1)[0].decode() or "connection closed, no answer"
    except OSError as error:
        answer = f"no answer ({type(error).__name__})"
    return answer, time.perf_counter() - started


def still_open(connections: list[socket.socket]) -> int:
    count = 0
    for connection in connections:
        connection.setblocking(False)
        try:
            count += connection.recv(1) != b""
        except BlockingIOError:
            count += 1
        except OSError:
            pass
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=int, default=1100)
    parser.add_argument("--nofile", type=int, default=1024)
    parser.add_argument("--per-client", type=int, default=50)
    parser.add_argument("--plain", action="store_true")
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(args.nofile), "plain" if args.plain else "guarded", str(args.per_client)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        port = int(server.stdout.readline())
        print(f"{'uvicorn defaults' if args.plain else 'xmodal serve limits'}; open files {args.nofile}")
        print("GET / before: %s in %.3f s" % get(port, 10))
        idle = []
        for _ in range(args.idle):
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.2", 0))
                connection.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n")
                idle.append(connection)
            except OSError:
                pass
        time.sleep(1.0)  # let the server accept what it will
        answer, seconds = get(port, 10)
        print(f"{args.idle} slow connections opened, {still_open(idle)} held open by the server")
        print(f"GET / during: {answer} in {seconds:.3f} s")
        if not args.plain:  # the slow clients' head deadline (header_timeout_seconds, 10 s) has passed
            time.sleep(Settings(store="unused").header_timeout_seconds + 1)
            answer, seconds = get(port, 10)
            print(f"GET / after the head deadline: {answer} in {seconds:.3f} s, {still_open(idle)} still held open")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
