"""A served store: indexed with the fake encoder, closed, then opened read-only as `xmodal serve` does."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from xmodal.api import create_app
from xmodal.config import Settings
from xmodal.engine import Engine
from xmodal.indexer import IndexJob, collect_sources
from xmodal.store import Store

KEY = "test-key-0123"
MANIFEST = [
    {
        "id": "doc-ann",
        "text": "The red barn at night, dogs barking.",
        "metadata": {"author": "ann", "year": 2020, "draft": False},
    },
    {"id": "doc-bob", "text": "A green field in the morning light.", "metadata": {"author": "bob", "year": 2021}},
    {"id": "doc-cy", "text": "Blue night sky over a quiet city.", "metadata": {"author": "cy", "year": 2020}},
]


def png(colour: tuple[int, int, int], size: tuple[int, int] = (16, 16)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def rich_corpus(corpus: Path) -> Path:
    """The shared corpus plus a manifest of texts with metadata, and known mtimes on the images."""
    (corpus / "notes.jsonl").write_text("\n".join(json.dumps(entry) for entry in MANIFEST) + "\n")
    for number, name in enumerate(["red.png", "green.jpg", "blue.bmp"]):
        os.utime(corpus / "img" / name, (1_600_000_000 + number * 1000, 1_600_000_000 + number * 1000))
    return corpus


def index_into(directory: Path, paths: list[Path], encoder, settings: Settings) -> None:
    store = Store.open(directory, encoder.info.identity(), writable=True, database_url=settings.database_url)
    try:
        IndexJob(store, encoder, settings).run(collect_sources(paths))
    finally:
        store.close()


@pytest.fixture
def serve(rich_corpus: Path, encoder, settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """serve(**setting overrides) -> a TestClient over the indexed corpus, read-only store as in production."""
    index_into(settings.store, [rich_corpus, rich_corpus / "notes.jsonl"], encoder, settings)
    clients: list[TestClient] = []

    def start(**overrides: object) -> TestClient:
        served = settings.with_overrides(**{"max_upload_bytes": 200_000, "max_audio_seconds": 2.0, **overrides})
        app = create_app(served, Engine.open(served, encoder=encoder))
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [(result["path"] or result["external_id"]).rsplit("/", 1)[-1] for result in response.json()["results"]]
