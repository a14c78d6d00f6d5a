"""Issue 8, minor items: odd but valid-looking inputs get a 4xx naming the problem, never a 500."""

from __future__ import annotations

import os

import pytest

from tests.api.conftest import KEY


@pytest.mark.parametrize(
    "filters, message",
    [
        ({"min_size": 2**63}, "min_size"),
        ({"max_size": 2**64}, "max_size"),
    ],
)
def test_integers_beyond_64_bits_in_filters_are_refused(serve, filters, message) -> None:
    response = serve().post("/search", json={"text": "red", "filters": filters})
    assert response.status_code == 422 and message in response.json()["detail"]


def test_a_metadata_integer_beyond_64_bits_is_no_500(serve) -> None:
    response = serve().post("/search", json={"text": "red", "filters": {"metadata": {"year": 2**63}}})
    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.parametrize("query", ['{"a":' * 5000 + "1" + "}" * 5000, "[" * 100_000 + "]" * 100_000])
def test_a_deeply_nested_multipart_query_field_is_refused(serve, query) -> None:
    response = serve(max_upload_bytes=1_000_000).post("/search", files={"query": (None, query)})
    assert response.status_code == 422 and "nested too deeply" in response.json()["detail"]


def test_a_lone_surrogate_is_refused(serve) -> None:
    client = serve()
    response = client.post("/search", files={"query": (None, '{"text": "\\ud800"}')})
    assert response.status_code == 422
    response = client.post("/search", content=b'{"text": "\\ud800"}', headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_a_loop_of_links_given_to_jobs_is_refused(serve, tmp_path) -> None:
    root = tmp_path / "roots"
    root.mkdir()
    (root / "loop").symlink_to(root / "loop")
    client = serve(api_key=KEY, allowed_roots=[root])
    for path in [root / "loop", root / "loop" / "x"]:
        response = client.post("/jobs", json={"paths": [str(path)]}, headers={"X-API-Key": KEY})
        assert response.status_code == 422 and "loop" in response.json()["detail"]


def test_health_is_503_when_a_vector_file_cannot_be_read(serve, settings) -> None:
    """Issue 8 #8 (in part): a store it cannot search is not reported healthy."""
    client = serve()
    assert client.get("/health").json()["status"] == "ok"
    image = settings.store / "vectors" / "image.faiss"
    image.write_bytes(image.read_bytes()[:40])  # truncated, and newer: the reader reloads it
    os.utime(image, (image.stat().st_mtime + 10, image.stat().st_mtime + 10))
    response = serve().get("/health")
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] == "unhealthy" and any("image" in problem for problem in body["problems"])
