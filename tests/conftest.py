from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from tests.fakes import FakeEncoder  # noqa: E402
from xmodal.config import Settings  # noqa: E402
from xmodal.store import Store  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def tone(path: Path, hz: float, seconds: float = 1.0, rate: int = 16000) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    soundfile.write(path, (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32), rate)
    return path


def solid(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (32, 24)) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A small mixed corpus: coloured images, low/high tones, and texts."""
    root = tmp_path / "corpus"
    (root / "img").mkdir(parents=True)
    (root / "snd").mkdir()
    (root / "txt").mkdir()
    solid(root / "img" / "red.png", (250, 10, 10))
    solid(root / "img" / "green.jpg", (10, 240, 10))
    solid(root / "img" / "blue.bmp", (10, 10, 250))
    tone(root / "snd" / "low.wav", 220)
    tone(root / "snd" / "high.flac", 3000)
    (root / "txt" / "red.txt").write_text("A red thing.")
    (root / "txt" / "low.md").write_text("# Low\nA low hum.")
    (root / "ignored.xyz").write_text("not indexed")
    return root


@pytest.fixture
def encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(store=tmp_path / "store", batch_size=2)


@pytest.fixture
def store(settings: Settings, encoder: FakeEncoder) -> Store:
    return Store.open(settings.store, encoder.info.identity(), writable=True)


TINY_CLIP = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="session")
def tiny_clip_spec(tmp_path_factory) -> str:
    """A tiny open_clip model with random weights saved to local files: `open_clip:CONFIG@WEIGHTS`."""
    import json

    from safetensors.torch import save_file

    from xmodal.compat import ensure_imports

    ensure_imports()
    import open_clip

    folder = tmp_path_factory.mktemp("tiny-clip")
    config = folder / "xmodal-tiny-test.json"
    config.write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(config)
    model = open_clip.create_model("xmodal-tiny-test")
    weights = folder / "tiny.safetensors"
    save_file({name: tensor.contiguous() for name, tensor in model.state_dict().items()}, str(weights))
    return f"open_clip:{config}@{weights}"


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for the whole session (tests/postgres.py), or a skip saying what is missing."""
    from tests.postgres import PostgresServer, missing_parts

    missing = missing_parts()
    if missing:
        pytest.skip(f"PostgreSQL tests skipped: {missing}")
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str | None:
    """Each database the metadata may live in: None (SQLite in the store folder) or a new PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres").new_database()
