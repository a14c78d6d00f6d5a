"""What the web UI asks the server for besides search: waveforms, downloads, offline API docs, the favicon."""

from __future__ import annotations

import json
import re

from tests.api.conftest import KEY, index_into
from tests.api.test_items_jobs import item_id
from tests.conftest import tone


def test_a_waveform_is_the_duration_and_100_peaks_cached_under_the_store(serve, settings) -> None:
    client = serve()
    sound = item_id(client, "low.wav")  # 1 s of a 0.5-amplitude sine
    response = client.get(f"/items/{sound}/waveform")
    assert response.status_code == 200, response.text
    waveform = response.json()
    assert waveform["duration"] == 1.0 and waveform["peaks_seconds"] == 1.0
    assert len(waveform["peaks"]) == 100 and all(0.49 <= peak <= 0.51 for peak in waveform["peaks"])
    cached = list((settings.store / "waveforms").glob(f"{sound}-*.json"))
    assert len(cached) == 1 and json.loads(cached[0].read_text()) == waveform
    cached[0].write_text(json.dumps({**waveform, "peaks": [0.25] * 100}))  # the second answer comes from the cache
    assert client.get(f"/items/{sound}/waveform").json()["peaks"] == [0.25] * 100


def test_a_sound_longer_than_the_decoding_limit_shows_its_whole_duration(serve, rich_corpus, encoder, settings) -> None:
    # Indexed whole (60 s default); served with max_audio_seconds=2 as the serve fixture does.
    index_into(settings.store, [tone(rich_corpus / "snd" / "long.wav", 220, seconds=5.0)], encoder, settings)
    client = serve()
    waveform = client.get(f"/items/{item_id(client, 'long.wav')}/waveform").json()
    assert waveform["duration"] == 5.0 and waveform["peaks_seconds"] == 2.0 and len(waveform["peaks"]) == 100


def test_waveforms_only_for_sounds_with_their_file_unchanged(serve, rich_corpus) -> None:
    client = serve()
    image = client.get(f"/items/{item_id(client, 'red.png')}/waveform")
    assert image.status_code == 404 and "only sounds" in image.json()["detail"]
    assert client.get(f"/items/{item_id(client, 'doc-ann')}/waveform").status_code == 404
    assert client.get("/items/424242/waveform").status_code == 404
    sound = item_id(client, "high.flac")
    tone(rich_corpus / "snd" / "high.flac", 3000, seconds=1.5)  # changed since it was indexed
    changed = client.get(f"/items/{sound}/waveform")
    assert changed.status_code == 409 and "index it again" in changed.json()["detail"]


def test_deleting_an_item_removes_its_cached_waveform(serve, settings) -> None:
    client = serve(api_key=KEY)
    sound = item_id(client, "low.wav")
    assert client.get(f"/items/{sound}/waveform").status_code == 200
    assert client.delete(f"/items/{sound}", headers={"X-API-Key": KEY}).status_code == 200
    assert not list((settings.store / "waveforms").glob(f"{sound}-*"))


def test_media_as_a_download(serve, rich_corpus) -> None:
    client = serve()
    sound = item_id(client, "low.wav")
    download = client.get(f"/items/{sound}/media?download=1")
    assert download.status_code == 200 and download.content == (rich_corpus / "snd" / "low.wav").read_bytes()
    assert download.headers["content-disposition"] == 'attachment; filename="low.wav"'
    assert client.get(f"/items/{sound}/media").headers["content-disposition"] == 'inline; filename="low.wav"'


def test_api_docs_load_their_scripts_from_this_server(serve) -> None:
    client = serve()
    for page in ("/docs", "/redoc"):
        html = client.get(page)
        assert html.status_code == 200 and "text/html" in html.headers["content-type"]
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html.text)
        assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls), urls
        for url in urls:
            asset = client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 100, url
    assert "SwaggerUIBundle" in client.get("/docs-assets/swagger-ui-bundle.js").text
    assert client.get("/openapi.json").json()["paths"]["/items/{item_id}/waveform"]


def test_the_page_has_an_svg_favicon(serve) -> None:
    client = serve()
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get("/").text
    icon = client.get("/static/favicon.svg")
    assert (
        icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml") and b"<svg" in icon.content
    )
