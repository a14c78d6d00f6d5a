"""Issue 8 #3: an uploaded image is decoded off the event loop, in a bounded pool, at reduced size
where the format allows it (JPEG), and refused before decoding when its decoded pixels would exceed
the upload budget (a 1.9 KB lossless WebP can hold 49 MP: 0.7 GB decoded)."""

from __future__ import annotations

import io
import threading

from PIL import Image

import xmodal.api.uploads as uploads


def encoded(size: tuple[int, int], kind: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, kind, **options)
    return buffer.getvalue()


def test_an_image_over_the_upload_pixel_budget_is_refused_before_decoding(serve) -> None:
    client = serve(max_upload_pixels=1_000_000)
    bomb = encoded((1500, 1500), "WEBP", lossless=True)
    assert len(bomb) < 5_000  # tiny on the wire
    response = client.post("/search", files={"file": ("bomb.webp", bomb, "image/webp")})
    assert response.status_code == 422, response.text
    assert "2 MP" in response.json()["detail"] and "XMODAL_MAX_UPLOAD_PIXELS" in response.json()["detail"]
    small = encoded((900, 900), "WEBP", lossless=True)
    assert client.post("/search", files={"file": ("ok.webp", small, "image/webp")}).status_code == 200


def test_a_large_jpeg_is_decoded_at_reduced_size_within_the_budget(serve) -> None:
    client = serve(max_upload_pixels=1_000_000)
    photo = encoded((3200, 3200), "JPEG")  # 10 MP; decoded at 1/4 scale (800x800) for a 768 side
    assert client.post("/search", files={"file": ("big.jpg", photo, "image/jpeg")}).status_code == 200


def test_uploads_decode_off_the_event_loop(serve, monkeypatch) -> None:
    client = serve()
    release, entered = threading.Event(), threading.Event()
    decode = uploads.decode_upload

    def slow_decode(*args, **kwargs):
        entered.set()
        release.wait(30)
        return decode(*args, **kwargs)

    monkeypatch.setattr(uploads, "decode_upload", slow_decode)
    image = encoded((16, 16), "PNG")
    answers: list[int] = []
    upload = threading.Thread(
        target=lambda: answers.append(client.post("/search", files={"file": ("a.png", image, "image/png")}).status_code)
    )
    upload.start()
    try:
        assert entered.wait(30)
        health: list[int] = []
        probe = threading.Thread(target=lambda: health.append(client.get("/health").status_code))
        probe.start()
        probe.join(10)
        answered_while_decoding = health == [200]
    finally:
        release.set()
        upload.join(30)
    assert answered_while_decoding, "the event loop was blocked by a decode"
    assert answers == [200]
