"""Request bodies: the key is checked before a body is read, and JSON bodies are capped far below the
upload limit, by Content-Length or by counting what arrives (issue 8, item 4)."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from tests.api.conftest import KEY

BIG_JSON = json.dumps({"paths": ["/x" * 100] * 10_000}).encode()  # about 2 MB, valid for the schema's types


def call(app: Any, path: str, chunks: list[bytes], headers: dict[str, str]) -> tuple[int, int]:
    """Drive the app as a server would, without reading ahead: (status, body chunks the app pulled)."""
    pulled = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled < len(chunks):
            pulled += 1
            return {"type": "http.request", "body": chunks[pulled - 1], "more_body": pulled < len(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 8000),
    }
    anyio.run(app, scope, receive, send)
    return status, pulled


@pytest.fixture
def client(serve):
    return serve(api_key=KEY, max_upload_bytes=5_000_000, allowed_roots=["/nonexistent-root"])


def test_jobs_check_the_key_before_reading_the_body(client) -> None:
    chunks = [b'{"paths": [', b"not json at all" * 1000, b"]}"]
    for headers in [{}, {"X-API-Key": "wrong"}]:
        status, pulled = call(client.app, "/jobs", chunks, {"content-type": "application/json", **headers})
        assert (status, pulled) == (401, 0)
    response = client.post("/jobs", content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 401


def test_json_bodies_are_capped_far_below_the_upload_limit(client) -> None:
    assert len(BIG_JSON) < 5_000_000
    big_text = json.dumps({"text": "a" * 9_000, "filters": {"path_prefix": "/" + "b" * 2_000_000}}).encode()
    response = client.post("/search", content=big_text, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "JSON" in response.json()["detail"]
    response = client.post("/jobs", content=BIG_JSON, headers={"content-type": "application/json", "X-API-Key": KEY})
    assert response.status_code == 413 and "JSON" in response.json()["detail"]


def test_an_oversized_json_length_is_refused_before_reading(client) -> None:
    headers = {"content-type": "application/json", "content-length": str(len(BIG_JSON)), "X-API-Key": KEY}
    for path in ["/search", "/jobs"]:
        assert call(client.app, path, [BIG_JSON], headers) == (413, 0)


def test_a_streamed_json_body_is_counted_and_cut_with_413(client) -> None:
    piece = b" " * 100_000
    chunks = [b'{"paths": ["/nonexistent-root/a"]'] + [piece] * 40 + [b"}"]
    for path in ["/search", "/jobs"]:
        status, pulled = call(client.app, path, chunks, {"content-type": "application/json", "X-API-Key": KEY})
        assert status == 413 and pulled < len(chunks), path


def test_jobs_take_only_json(client) -> None:
    response = client.post("/jobs", files={"file": ("a.txt", b"x")}, headers={"X-API-Key": KEY})
    assert response.status_code == 415


def test_only_trusted_hosts_are_answered_when_configured(serve) -> None:
    client = serve(trusted_hosts="search.example.org,localhost")
    assert client.get("/health", headers={"host": "rebound.attacker.test"}).status_code == 400
    assert client.get("/health", headers={"host": "localhost:8000"}).status_code == 200
    assert serve().get("/health", headers={"host": "anything.test"}).status_code == 200  # none configured: any
