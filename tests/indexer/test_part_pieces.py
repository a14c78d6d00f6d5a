"""Items made from pieces of one file (how videos become items: frames and a soundtrack), with a fake
container format: a text file whose lines name colours, read piece by piece by its `load_piece`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.indexer.test_parts import fused_of_parts, item_of
from xmodal import modalities
from xmodal.encoders.media import Audio, MediaError
from xmodal.indexer import IndexJob, ItemSource, Source
from xmodal.store.schema import ITEM

COLOURS = {"red": (250, 10, 10), "blue": (10, 10, 250), "green": (10, 240, 10)}


def load_piece(handle, piece: str, limits) -> object:
    lines = handle.read().decode().split()
    if piece == "soundtrack":
        t = np.arange(16000) / 16000
        return Audio((0.5 * np.sin(2 * np.pi * (220 if "low" in lines else 3000) * t)).astype(np.float32), 16000)
    number = int(piece.split()[1])
    if number >= len(lines) or lines[number] not in COLOURS:
        raise MediaError(f"no {piece}")
    return Image.new("RGB", (16, 16), COLOURS[lines[number]])


@pytest.fixture(autouse=True)
def strips(monkeypatch) -> None:
    kind = modalities.Modality("strip", "strip", "strips", frozenset({".strip"}), "strips", None, load_piece=load_piece)  # type: ignore[arg-type]
    monkeypatch.setitem(modalities.REGISTRY, "strip", kind)


def film(path: Path, *lines: str) -> ItemSource:
    path.write_text("\n".join(lines))
    pieces = [Source("image", str(path), piece=f"frame {n}") for n in range(2)] + [
        Source("audio", str(path), piece="soundtrack")
    ]
    return ItemSource(external_id=path.stem, parts=tuple(pieces), where=str(path), path=str(path))


def test_an_item_from_pieces_of_one_file(tmp_path, store, encoder, settings) -> None:
    source = film(tmp_path / "film.strip", "red", "blue", "low")
    assert IndexJob(store, encoder, settings).run([source]).indexed == 1
    item, parts = item_of(store, "film")
    assert item.path == str(tmp_path / "film.strip") and item.size == (tmp_path / "film.strip").stat().st_size
    assert sorted((p.modality, p.piece, p.path) for p in parts) == [
        ("audio", "soundtrack", None), ("image", "frame 0", None), ("image", "frame 1", None)
    ]
    assert np.allclose(store.vectors(ITEM).vector(item.id), fused_of_parts(store, parts), atol=1e-6)
    encoder.calls.clear()
    assert IndexJob(store, encoder, settings).run([source]).unchanged == 1 and encoder.calls == []
    os.utime(tmp_path / "film.strip", (1, 1))  # touched: read and hashed, nothing embedded
    assert IndexJob(store, encoder, settings).run([source]).indexed == 1 and encoder.calls == []
    assert item_of(store, "film")[0].mtime == 1
    assert IndexJob(store, encoder, settings).run([source]).unchanged == 1
    changed = film(tmp_path / "film.strip", "green", "blue", "high")
    IndexJob(store, encoder, settings).run([changed])
    assert sorted(kind for kind, _ in encoder.calls) == ["audio", "image"]  # a new file: every piece again
    assert store.verify() == [] and len(store.vectors("image")) == 2


def test_a_bad_piece_fails_alone_and_a_vanished_file_is_pruned(tmp_path, store, encoder, settings) -> None:
    summary = IndexJob(store, encoder, settings).run([film(tmp_path / "short.strip", "red", "low")])
    assert summary.indexed == 1 and summary.failures == [(f"{tmp_path / 'short.strip'} (frame 1)", "no frame 1")]
    assert sorted(p.piece for p in item_of(store, "short")[1]) == ["frame 0", "soundtrack"]
    (tmp_path / "short.strip").unlink()
    assert IndexJob(store, encoder, settings).run([], prune_under=[tmp_path]).pruned == 1
    assert store.by_external_id("short") is None and store.verify() == [] and len(store.vectors("audio")) == 0


def test_lost_pieces_are_re_embedded_from_their_items_file(tmp_path, store, encoder, settings) -> None:
    import shutil

    from xmodal.indexer.restore import restore_lost
    from xmodal.store import Store

    IndexJob(store, encoder, settings).run([film(tmp_path / "film.strip", "red", "blue", "low")])
    store.close()
    shutil.rmtree(settings.store / "vectors")
    store = Store.open(settings.store, encoder.info.identity(), writable=True)
    assert not restore_lost(store, encoder, settings).kept
    item, parts = item_of(store, "film")
    assert item.status == "indexed" and len(parts) == 3 and store.verify() == []
    store.close()
