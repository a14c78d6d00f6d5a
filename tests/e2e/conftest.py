"""Stores built once through the CLI (tiny open_clip model from local files) for the end-to-end tests."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import solid, tone
from tests.e2e.runner import xmodal

LONG_FOLDER = "a-folder-with-a-name-long-enough-to-fill-a-table-column"
DUPLICATES = 12


@dataclass(frozen=True)
class Indexed:
    store: Path
    corpus: Path
    first_run: subprocess.CompletedProcess


@pytest.fixture(scope="session")
def indexed(tmp_path_factory: pytest.TempPathFactory, tiny_clip_spec: str) -> Indexed:
    """Three images deep under a long folder name, 12 copies of one of them, a corrupt image, a sound
    (the tiny model has no audio tower) and a text, indexed once."""
    root = tmp_path_factory.mktemp("indexed")
    images = root / "corpus" / LONG_FOLDER / "images"
    images.mkdir(parents=True)
    solid(images / "red.png", (250, 10, 10))
    solid(images / "green.jpg", (10, 240, 10))
    solid(images / "blue.bmp", (10, 10, 250))
    for n in range(DUPLICATES):
        shutil.copy(images / "red.png", images / f"copy-{n:02d}.png")
    (images / "broken.png").write_bytes(b"not a png")
    tone(root / "corpus" / "hum.wav", 220)
    (root / "corpus" / "note.txt").write_text("A red thing.")
    store = root / "store"
    run = xmodal("index", "--store", store, "--model", tiny_clip_spec, root / "corpus", cwd=root)
    assert store.is_dir(), run.stderr
    return Indexed(store, root / "corpus", run)


@pytest.fixture(scope="session")
def broken_model_store(tmp_path_factory: pytest.TempPathFactory, tiny_clip_spec: str) -> Path:
    """A store whose model's weights file is gone: any command that loads the model fails, so a
    command that fails for another reason must have checked that first."""
    root = tmp_path_factory.mktemp("broken-model")
    config, _, weights = tiny_clip_spec.removeprefix("open_clip:").partition("@")
    copied = root / "weights-to-delete.safetensors"
    shutil.copy(weights, copied)
    (root / "texts").mkdir()
    (root / "texts" / "note.txt").write_text("A red thing.")
    store = root / "store"
    run = xmodal("index", "--store", store, "--model", f"open_clip:{config}@{copied}", root / "texts", cwd=root)
    assert run.returncode == 0, run.stderr
    copied.unlink()
    return store
