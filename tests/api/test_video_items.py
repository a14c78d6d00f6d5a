"""A video served: found by a search as an item with parts, its clip from /media, a poster frame (the
middle one) and each frame part's picture from /thumbnail."""

from __future__ import annotations

import io
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from tests.videos import write_video
from xmodal.api import create_app
from xmodal.config import Settings
from xmodal.engine import Engine
from xmodal.indexer import IndexJob, collect_sources
from xmodal.modalities import Limits
from xmodal.store import Store


def colour(response) -> tuple[int, int, int]:
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg", response.text
    return Image.open(io.BytesIO(response.content)).convert("RGB").getpixel((4, 4))


def test_a_video_result_has_its_clip_poster_and_frames(tmp_path: Path, encoder, settings: Settings) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    clip = write_video(folder / "sunset.mp4", colours=((250, 10, 10), (10, 10, 250)), tone_hz=220)
    settings = settings.with_overrides(video_frames=4)
    store = Store.open(settings.store, encoder.info.identity(), writable=True)
    IndexJob(store, encoder, settings).run(collect_sources([folder], limits=Limits.for_indexing(settings)))
    store.close()
    with TestClient(create_app(settings, Engine.open(settings, encoder=encoder))) as client:
        found = client.post("/search", json={"text": "red", "k": 1}).json()["results"][0]
        assert found["modality"] == "item" and found["path"].endswith("sunset.mp4")
        assert [(part["modality"], part["piece"]) for part in found["parts"]] == [
            ("image", "frame 1/4"),
            ("image", "frame 2/4"),
            ("image", "frame 3/4"),
            ("image", "frame 4/4"),
            ("audio", "soundtrack"),
        ]
        media = client.get(f"/items/{found['id']}/media")
        assert media.status_code == 200 and media.headers["content-type"] == "video/mp4"
        assert media.content == clip.read_bytes()
        red, _, blue = colour(client.get(f"/items/{found['id']}/thumbnail"))
        assert blue > 200 and red < 60  # the poster: frame 3 of 4, in the blue half
        first, last = found["parts"][0]["id"], found["parts"][3]["id"]
        assert colour(client.get(f"/items/{first}/thumbnail"))[0] > 200  # red
        assert colour(client.get(f"/items/{last}/thumbnail"))[2] > 200  # blue
        soundtrack = found["parts"][4]["id"]
        assert client.get(f"/items/{soundtrack}/media").status_code == 404  # played as the clip
