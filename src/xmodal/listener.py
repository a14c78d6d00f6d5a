"""The server's listening socket, bound before anything else loads (stdlib only: `xmodal serve`
imports this before the API), so a taken port is one clear error at once, and the URL announced
afterwards already accepts connections."""

from __future__ import annotations

import errno
import socket

from xmodal.errors import Conflict, Invalid, Unavailable


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port and listening (port 0: a free one); Conflict when the port is taken."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise Invalid(f"cannot listen on {host!r}: {error.strerror}") from None
    listener = socket.socket(family, kind, protocol)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a restart need not wait out TIME_WAIT
    try:
        listener.bind(address)
        listener.listen(2048)
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise Conflict(
                f"port {port} on {host} is in use (another server?); choose another with --port or XMODAL_PORT"
            ) from None
        raise Unavailable(f"cannot listen on {host} port {port}: {error.strerror or error}") from None
    return listener


def url(listener: socket.socket) -> str:
    host, port = listener.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
