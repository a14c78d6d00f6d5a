from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.conftest import tone
from xmodal.api import create_app
from xmodal.engine import Engine
from xmodal.indexer import IndexJob, collect_sources


@pytest.fixture
def client(corpus, store, encoder, settings):
    IndexJob(store, encoder, settings).run(collect_sources([corpus]))
    app = create_app(settings.with_overrides(max_upload_bytes=200_000), Engine(settings, store=store, encoder=encoder))
    with TestClient(app) as client:
        yield client


def png(colour: tuple[int, int, int], size: tuple[int, int] = (16, 16)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def first_name(response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["results"][0]["path"].rsplit("/", 1)[-1]


def test_health_reports_model_and_counts(client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["model"]["spec"] == "fake"
    assert body["items"]["image"] == {"indexed": 3}


def test_json_text_and_item_search(client) -> None:
    assert first_name(client.post("/search", json={"text": "green", "modality": ["image"]})) == "green.jpg"
    item_id = client.post("/search", json={"text": "green", "modality": "image", "k": 1}).json()["results"][0]["id"]
    results = client.post("/search", json={"item": item_id, "k": 2}).json()["results"]
    assert len(results) == 2 and item_id not in [r["id"] for r in results]


def test_uploads_search_by_image_and_by_audio(tmp_path, client) -> None:
    response = client.post(
        "/search", files={"file": ("q.png", png((240, 0, 0)), "image/png")}, data={"modality": "image"}
    )
    assert first_name(response) == "red.png"
    sound = tone(tmp_path / "q.wav", 5000).read_bytes()
    response = client.post(
        "/search",
        files={"file": ("blob", sound, "application/octet-stream")},
        data={"modality": ["audio", "text"], "k": "1"},
    )
    assert first_name(response) == "high.flac"


def test_get_item_and_unknown_item(client) -> None:
    item = client.get("/items/1").json()
    assert item["status"] == "indexed" and item["modality"] in ("image", "audio", "text")
    assert client.get("/items/999").status_code == 404
    assert client.get("/items/abc").status_code == 422


@pytest.mark.parametrize(
    "kwargs, status, message",
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, "JSON"),
        ({"json": {}}, 422, "exactly one"),
        ({"json": {"text": "a", "item": 3}}, 422, "exactly one"),
        ({"json": {"text": "a", "k": 0}}, 422, "k"),
        ({"json": {"text": "a", "modality": ["video"]}}, 422, "modality"),
        ({"json": {"text": "a", "extra": 1}}, 422, "extra"),
        ({"json": {"item": 4242}}, 404, "no indexed item"),
        ({"content": b"text=hi", "headers": {"content-type": "text/plain"}}, 415, "multipart"),
        ({"data": {"k": "3"}, "files": {"other": ("a", b"x")}}, 422, "'file'"),
        ({"files": {"file": ("q.png", b"\x89PNG broken", "image/png")}}, 422, "image"),
        (
            {"files": {"file": ("q.bin", b"neither image nor sound", "application/octet-stream")}},
            422,
            "neither an image nor an audio",
        ),
        ({"files": {"file": ("q.ogg", b"OggS broken", "audio/ogg")}}, 422, "not a readable audio file"),
        ({"files": {"file": ("q.png", png((1, 1, 1), (400, 400)) + b"\0" * 300_000, "image/png")}}, 413, "limit"),
        ({"files": {"file": ("q.png", png((1, 1, 1)), "image/png")}, "data": {"k": "many"}}, 422, "k"),
    ],
)
def test_malformed_requests_get_4xx_with_a_message(client, kwargs, status, message) -> None:
    response = client.post("/search", **kwargs)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]


def test_openapi_documents_both_request_bodies(client) -> None:
    body = client.get("/openapi.json").json()["paths"]["/search"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(body)
