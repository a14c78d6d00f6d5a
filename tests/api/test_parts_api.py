"""Items with parts over HTTP: fusion options in JSON and multipart searches, the has_part filter,
an item's parts in GET /items."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.conftest import KEY, index_into, png
from tests.conftest import solid, tone
from xmodal.api import create_app
from xmodal.engine import Engine


def served(tmp_path: Path, encoder, settings) -> TestClient:
    settings = settings.with_overrides(api_key=KEY)
    solid(tmp_path / "kettle.png", (250, 10, 10))
    tone(tmp_path / "kettle.wav", 220)
    solid(tmp_path / "mug.png", (240, 20, 10))
    solid(tmp_path / "leaf.png", (10, 240, 10))
    lines = [
        {"id": "kettle", "image": "kettle.png", "audio": "kettle.wav", "text": "A red kettle.", "metadata": {"s": "a"}},
        {"id": "mug", "image": "mug.png", "text": "A red mug.", "metadata": {"s": "b"}},
        {"id": "leaf", "image": "leaf.png"},
    ]
    manifest = tmp_path / "items.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    index_into(settings.store, [manifest], encoder, settings)
    return TestClient(create_app(settings, Engine.open(settings, encoder=encoder)))


def test_fusion_options_filters_and_item_parts(tmp_path, encoder, settings) -> None:
    with served(tmp_path, encoder, settings) as client:
        late = client.post("/search", json={"text": "red", "k": 3}).json()["results"]
        assert {hit["external_id"] for hit in late[:2]} == {"kettle", "mug"} and late[0]["parts"]
        assert "parts" in late[0] and late[0]["best_part"] in [part["id"] for part in late[0]["parts"]]
        early = client.post("/search", json={"text": "red", "fusion": "early", "weights": {"audio": 0}}).json()
        assert early["results"][0]["modality"] == "item"
        with_sound = client.post("/search", json={"text": "red", "filters": {"has_part": "audio"}}).json()["results"]
        assert [hit["external_id"] for hit in with_sound] == ["kettle"]
        images = client.post("/search", json={"text": "green", "filters": {"has_part": ["image"]}}).json()["results"]
        assert {hit["external_id"] for hit in images} == {"kettle", "mug", "leaf"}
        shop = client.post("/search", json={"text": "red", "filters": {"metadata": {"s": "b"}}}).json()["results"]
        assert [hit["external_id"] for hit in shop] == ["mug"]
        bad = client.post("/search", json={"text": "red", "fusion": "middle"})
        assert bad.status_code == 422 and "fusion" in bad.json()["detail"]
        upload = client.post(
            "/search", files={"file": ("q.png", png((250, 0, 0)), "image/png")}, data={"fusion": "early", "k": "1"}
        )
        assert upload.status_code == 200 and upload.json()["results"][0]["external_id"] in ("kettle", "mug")
        kettle = late[0] if late[0]["external_id"] == "kettle" else late[1]
        item = client.get(f"/items/{kettle['id']}").json()
        assert item["modality"] == "item" and sorted(p["modality"] for p in item["parts"]) == ["audio", "image", "text"]
        part = client.get(f"/items/{item['parts'][0]['id']}").json()
        assert part["parent_id"] == kettle["id"] and part["parts"] is None


def test_deleting_an_item_deletes_its_parts_and_their_thumbnails(tmp_path, encoder, settings) -> None:
    with served(tmp_path, encoder, settings) as client:
        kettle = client.post("/search", json={"text": "red", "filters": {"has_part": "audio"}}).json()["results"][0]
        picture = next(part["id"] for part in kettle["parts"] if part["modality"] == "image")
        assert client.get(f"/items/{picture}/thumbnail").status_code == 200
        assert client.delete(f"/items/{kettle['id']}", headers={"X-API-Key": KEY}).status_code == 200
        assert all(client.get(f"/items/{part['id']}").status_code == 404 for part in kettle["parts"])
        assert not list((settings.store / "thumbnails").glob(f"{picture}-*"))
        left = client.post("/search", json={"text": "red"}).json()["results"]
        assert "kettle" not in [hit["external_id"] for hit in left] and left
