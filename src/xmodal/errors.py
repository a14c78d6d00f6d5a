"""One error hierarchy for what a user or a client can fix, each kind with the HTTP status it maps to.

The API turns any `XmodalError` into `{"detail": message}` with its status (one handler); the CLI
prints it as one line and exits 2. Anything else (a bare ValueError, a TypeError) is a bug and keeps
its traceback. `NotFound` and `Invalid` are also a LookupError and a ValueError, so callers written
against those keep working.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping


class XmodalError(Exception):
    """A failure a person can act on; the message says what to do."""

    status = 400


class NotFound(XmodalError, LookupError):
    status = 404


class Conflict(XmodalError):
    """The request is fine but the state does not allow it now (another writer, another model)."""

    status = 409


class Invalid(XmodalError, ValueError):
    """Input that cannot be used as given: a bad query, file, setting or model name."""

    status = 422


class Unavailable(XmodalError):
    """Something this installation or store lacks (an index, an optional package)."""

    status = 503


def validation_message(problems: Iterable[Mapping[str, Any]], where: Callable[[str], str] = str) -> str:
    """Pydantic's problems (`error.errors()`) as one line: `field.sub: message; other: message`.

    The one formatter of the CLI (settings, queries), batch query files and the API. `where` may
    reword a location (the CLI says which flag or variable it is); a problem of the whole object has
    no location and shows just its message."""
    parts = []
    for problem in problems:
        location = ".".join(str(part) for part in problem.get("loc", ()))
        parts.append(f"{where(location)}: {problem['msg']}" if location else problem["msg"])
    return "; ".join(parts)
