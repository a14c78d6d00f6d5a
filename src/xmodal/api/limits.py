"""Request body limits, applied before anything parses a body: uploads (multipart) up to the upload
limit, every other body (JSON) up to a much smaller one, by Content-Length or by counting what arrives.
Parsing JSON costs many times its size in memory (a 47 MB body took 1.2 GB), so a JSON body never gets
near the upload limit."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from starlette.responses import JSONResponse

BODY_SLACK = 64 * 1024  # multipart boundaries and the other form fields


class BodyTooLarge(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def too_large_response(error: BodyTooLarge) -> JSONResponse:
    return JSONResponse({"detail": error.message}, status_code=413)


class BodyLimit:
    """ASGI middleware: a multipart body may reach `upload_limit` (+ slack), any other body `json_limit`."""

    def __init__(self, app: Any, upload_limit: int, json_limit: int) -> None:
        self.app = app
        self.upload_limit = upload_limit
        self.json_limit = json_limit

    def _refusal(self, scope: dict[str, Any]) -> tuple[int, BodyTooLarge]:
        headers = dict(scope.get("headers", []))
        if headers.get(b"content-type", b"").startswith(b"multipart/form-data"):
            limit = self.upload_limit + BODY_SLACK
            return limit, BodyTooLarge(f"request body larger than the upload limit ({self.upload_limit} bytes)")
        message = f"JSON request body larger than {self.json_limit} bytes (upload files as multipart/form-data)"
        return self.json_limit, BodyTooLarge(message)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, refusal = self._refusal(scope)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await too_large_response(refusal)(scope, receive, send)
                return
        received = 0

        async def counted() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise refusal
            return message

        await self.app(scope, counted, send)


async def json_body(request: Request) -> bytes:
    """The body of a route that takes JSON only; BodyLimit has bounded it. Read it after the route's
    dependencies (the API key) have run: a route that declares a pydantic body parameter instead has
    FastAPI read and parse the body before any dependency."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(415, "send the body as application/json")
    return await request.body()
