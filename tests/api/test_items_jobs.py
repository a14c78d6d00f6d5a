"""Media, thumbnails, deletes and index jobs: registered files only, the API key, the allowed roots."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.api.conftest import KEY
from tests.conftest import solid
from xmodal.store import Store


def item_id(client, name: str) -> int:
    for result in client.post("/search", json={"text": name.split(".")[0], "k": 50}).json()["results"]:
        if (result["path"] or result["external_id"] or "").endswith(name):
            return result["id"]
    raise AssertionError(f"{name} not found")


def wait_for(client, job_id: str, headers: dict) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}", headers=headers).json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_media_streams_the_registered_file_with_ranges(serve, rich_corpus) -> None:
    client = serve()
    sound = item_id(client, "low.wav")
    whole = client.get(f"/items/{sound}/media")
    assert whole.status_code == 200 and whole.content == (rich_corpus / "snd" / "low.wav").read_bytes()
    assert whole.headers["content-type"].startswith("audio/") and whole.headers["accept-ranges"] == "bytes"
    part = client.get(f"/items/{sound}/media", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == whole.content[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(whole.content)}"
    text = client.get(f"/items/{item_id(client, 'red.txt')}/media")
    assert text.status_code == 200 and text.text == "A red thing." and "charset=utf-8" in text.headers["content-type"]


def test_media_refuses_what_is_not_a_registered_file(serve, rich_corpus) -> None:
    client = serve()
    inline = client.get(f"/items/{item_id(client, 'doc-ann')}/media")
    assert inline.status_code == 404 and "no file" in inline.json()["detail"]
    assert client.get("/items/424242/media").status_code == 404
    gone = item_id(client, "high.flac")
    (rich_corpus / "snd" / "high.flac").unlink()
    assert client.get(f"/items/{gone}/media").status_code == 404
    for attempt in ["/items/..%2F..%2Fetc%2Fpasswd/media", "/items/1/../../../etc/passwd", "/items/-1/media",
                    "/static/..%2F..%2Fconfig.py", "/static/../../xmodal.db", "/items/99999999999999999999/media"]:
        response = client.get(attempt)
        assert response.status_code in (404, 422), (attempt, response.status_code)
        assert b"root:" not in response.content and b"SQLite" not in response.content


def test_thumbnails_are_made_once_and_cached_under_the_store(serve, settings) -> None:
    client = serve()
    image = item_id(client, "green.jpg")
    first = client.get(f"/items/{image}/thumbnail")
    assert (
        first.status_code == 200 and first.headers["content-type"] == "image/jpeg" and first.content[:2] == b"\xff\xd8"
    )
    cached = list((settings.store / "thumbnails").glob(f"{image}-*.jpg"))
    assert len(cached) == 1
    assert client.get(f"/items/{image}/thumbnail").content == first.content
    sound = client.get(f"/items/{item_id(client, 'low.wav')}/thumbnail")
    assert sound.status_code == 404 and "only images" in sound.json()["detail"]


def test_without_a_key_the_server_is_read_only(serve) -> None:
    client = serve()
    assert client.get("/health").json()["read_only"] is True
    for method, path, body in [
        ("post", "/jobs", {"paths": ["/tmp"]}),
        ("delete", "/items/1", None),
        ("get", "/jobs", None),
    ]:
        response = client.request(method.upper(), path, json=body, headers={"X-API-Key": "anything"})
        assert response.status_code == 403 and "read-only" in response.json()["detail"]


def test_mutating_endpoints_need_the_right_key(serve) -> None:
    client = serve(api_key=KEY)
    assert client.get("/health").json()["read_only"] is False
    for headers in [{}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"}, {"X-API-Key": ""}]:
        response = client.delete("/items/1", headers=headers)
        assert response.status_code == 401, headers
        assert "API key" in response.json()["detail"]
    assert client.delete("/items/1", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert client.post("/search", json={"text": "red"}).status_code == 200  # searching needs no key


def test_delete_removes_row_vector_and_thumbnail(serve, settings) -> None:
    client = serve(api_key=KEY)
    image = item_id(client, "red.png")
    client.get(f"/items/{image}/thumbnail")
    response = client.delete(f"/items/{image}", headers={"X-API-Key": KEY})
    assert response.status_code == 200 and response.json() == {"deleted": image}
    assert client.get(f"/items/{image}").status_code == 404
    assert image not in [r["id"] for r in client.post("/search", json={"text": "red", "k": 50}).json()["results"]]
    assert not list((settings.store / "thumbnails").glob(f"{image}-*"))
    assert client.delete(f"/items/{image}", headers={"X-API-Key": KEY}).status_code == 404


def test_delete_while_another_writer_holds_the_store_is_409(serve, settings) -> None:
    client = serve(api_key=KEY)
    writer = Store.open(settings.store, writable=True)
    try:
        response = client.delete("/items/1", headers={"X-API-Key": KEY})
        assert response.status_code == 409 and "being written" in response.json()["detail"]
    finally:
        writer.close()


def test_jobs_index_paths_under_the_allowed_roots(serve, tmp_path) -> None:
    root = tmp_path / "incoming"
    (root / "deep").mkdir(parents=True)
    solid(root / "deep" / "purple.png", (200, 0, 200))
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "password.txt").write_text("hunter2 red")
    (root / "link.txt").symlink_to(secret / "password.txt")
    client = serve(api_key=KEY, allowed_roots=[root])
    headers = {"X-API-Key": KEY}

    started = client.post("/jobs", json={"paths": [str(root)]}, headers=headers)
    assert started.status_code == 202 and started.headers["location"] == f"/jobs/{started.json()['id']}"
    job = wait_for(client, started.json()["id"], headers)
    assert job["status"] == "done" and job["total"] == 1 and job["processed"] == 1
    assert job["indexed"] == 1 and job["failed"] == 0
    assert [(note["where"], "outside" in note["reason"]) for note in job["skipped"]] == [(str(root / "link.txt"), True)]
    found = client.post("/search", json={"text": "red", "modality": "image", "k": 10}).json()["results"]
    assert any(r["path"].endswith("purple.png") for r in found)  # the read-only server sees the job's work
    assert not any(
        "password" in (r["path"] or "") for r in client.post("/search", json={"text": "hunter2"}).json()["results"]
    )
    assert [j["id"] for j in client.get("/jobs", headers=headers).json()] == [job["id"]]
    assert client.get("/metrics").text.count('xmodal_jobs{status="done"} 1.0') == 1


@pytest.mark.parametrize(
    "path, status, message",
    [
        ("{outside}", 403, "outside the allowed roots"),
        ("{root}/../outside", 403, "outside the allowed roots"),
        ("/etc/passwd", 403, "outside the allowed roots"),
        ("relative/path", 422, "absolute path"),
        ("{root}/missing", 404, "no such file"),
        ("{root}/\x00", 422, "absolute path"),
    ],
)
def test_job_paths_are_checked(serve, tmp_path, path, status, message) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    client = serve(api_key=KEY, allowed_roots=[root])
    response = client.post(
        "/jobs", json={"paths": [path.format(root=root, outside=outside)]}, headers={"X-API-Key": KEY}
    )
    assert response.status_code == status and message in response.json()["detail"]


def test_jobs_need_allowed_roots_and_known_ids(serve) -> None:
    client = serve(api_key=KEY)
    response = client.post("/jobs", json={"paths": ["/tmp"]}, headers={"X-API-Key": KEY})
    assert response.status_code == 403 and "XMODAL_ALLOWED_ROOTS" in response.json()["detail"]
    assert client.get("/jobs/abc123", headers={"X-API-Key": KEY}).status_code == 404
    assert client.get("/jobs/not-an-id!", headers={"X-API-Key": KEY}).status_code == 422
    assert client.post("/jobs", json={"paths": []}, headers={"X-API-Key": KEY}).status_code == 422


def test_a_job_that_cannot_take_the_store_fails_with_a_reason(serve, settings, tmp_path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    solid(root / "red.png", (250, 0, 0))  # something to index: the store's lock is what stops the job
    client = serve(api_key=KEY, allowed_roots=[root])
    writer = Store.open(settings.store, writable=True)
    try:
        started = client.post("/jobs", json={"paths": [str(root)]}, headers={"X-API-Key": KEY}).json()
        job = wait_for(client, started["id"], {"X-API-Key": KEY})
    finally:
        writer.close()
    assert job["status"] == "failed" and "being written" in job["error"]


def test_paths_are_shown_even_when_not_utf8(serve, tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    name = root / (b"caf\xe9.png").decode("utf-8", "surrogateescape")
    solid(name, (250, 0, 0))
    client = serve(api_key=KEY, allowed_roots=[root])
    job = wait_for(
        client,
        client.post("/jobs", json={"paths": [str(root)]}, headers={"X-API-Key": KEY}).json()["id"],
        {"X-API-Key": KEY},
    )
    assert job["indexed"] == 1
    result = next(
        r for r in client.post("/search", json={"text": "red", "k": 50}).json()["results"] if "caf" in (r["path"] or "")
    )
    media = client.get(f"/items/{result['id']}/media")
    assert media.status_code == 200 and media.content == name.read_bytes()


def test_a_link_swapped_in_after_indexing_is_never_served(serve, rich_corpus, tmp_path) -> None:
    client = serve()
    secret = tmp_path / "shadow"
    secret.write_bytes(b"root:$6$secret:19000:0:99999:7:::\n")
    image, sound = item_id(client, "green.jpg"), item_id(client, "low.wav")
    target = rich_corpus / "img" / "green.jpg"
    target.rename(tmp_path / "green-original.jpg")
    target.symlink_to(secret)
    for path in (f"/items/{image}/media", f"/items/{image}/thumbnail"):
        response = client.get(path)
        assert response.status_code == 409 and b"root:" not in response.content, path
    # a link on the way (a directory swapped for a link to a copy of it) is refused too
    (rich_corpus / "snd").rename(tmp_path / "snd-real")
    (rich_corpus / "snd").symlink_to(tmp_path / "snd-real")
    assert client.get(f"/items/{sound}/media").status_code == 409
    # a FIFO in the file's place is refused at once, not waited on
    target.unlink()
    os.mkfifo(target)
    assert client.get(f"/items/{image}/media").status_code == 409
    target.unlink()
    (tmp_path / "green-original.jpg").rename(target)
    assert client.get(f"/items/{image}/media").content == target.read_bytes()


def test_a_changed_file_is_not_served_and_thumbnails_follow_the_file(serve, rich_corpus) -> None:
    client = serve()
    path = rich_corpus / "img" / "blue.bmp"
    blue = item_id(client, "blue.bmp")
    stat = path.stat()
    original = path.read_bytes()
    Image.new("RGB", (32, 24), (250, 10, 10)).save(path.with_suffix(".new.bmp"))  # same size: BMP is uncompressed
    path.with_suffix(".new.bmp").replace(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # size and mtime as recorded: passes the record check
    swapped = client.get(f"/items/{blue}/thumbnail")
    assert swapped.status_code == 200 and mean_colour(swapped.content)[0] > 200  # the red file now there
    path.with_suffix(".old.bmp").write_bytes(original)
    path.with_suffix(".old.bmp").replace(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    restored = client.get(f"/items/{blue}/thumbnail")
    assert mean_colour(restored.content)[2] > 200  # blue again: the swapped file's thumbnail is not reused
    path.write_bytes(original + b"\0")  # now really changed: size differs from the record
    changed = client.get(f"/items/{blue}/media")
    assert changed.status_code == 409 and "changed since it was indexed" in changed.json()["detail"]


def mean_colour(jpeg: bytes) -> tuple[float, float, float]:
    with Image.open(io.BytesIO(jpeg)) as image:
        return tuple(float(value) for value in np.asarray(image.convert("RGB"), dtype=np.float32).mean(axis=(0, 1)))
