from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.fakes import DIM
from xmodal.store import Item, Store, StoreError
from xmodal.store.schema import SCHEMA_VERSION, StoreInfo

MODEL = {"spec": "fake", "version": "1", "dim": DIM}


def unit_rows(n: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no xmodal store"):
        Store.open(tmp_path / "nowhere")


def test_store_refuses_another_model(tmp_path: Path) -> None:
    Store.open(tmp_path, MODEL)
    assert Store.open(tmp_path).model == MODEL
    with pytest.raises(StoreError, match="built with model fake version 1"):
        Store.open(tmp_path, {**MODEL, "version": "2"})


def test_store_refuses_a_newer_schema(tmp_path: Path) -> None:
    store = Store.open(tmp_path, MODEL)
    with store.sessions.begin() as session:
        session.merge(StoreInfo(key="schema_version", value=SCHEMA_VERSION + 1))
    with pytest.raises(StoreError, match="newer than this xmodal"):
        Store.open(tmp_path)


def test_vectors_and_rows_persist_and_search(tmp_path: Path) -> None:
    store = Store.open(tmp_path, MODEL)
    vectors = unit_rows(3)
    store.add([Item(modality="image", path=f"/x/{n}.png", content_hash=str(n)) for n in range(3)], vectors)
    reopened = Store.open(tmp_path)
    scores, ids = reopened.vectors("image").search(vectors[1:2], 1)
    assert reopened.get([int(ids[0][0])])[int(ids[0][0])].path == "/x/1.png"
    assert scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert reopened.counts() == {"image": {"indexed": 3}}


def test_non_utf8_path_round_trips(tmp_path: Path) -> None:
    store = Store.open(tmp_path, MODEL)
    odd = os.fsdecode(b"/data/caf\xe9.png")  # a Latin-1 name on a UTF-8 file system
    store.add([Item(modality="image", path=odd, content_hash="h")], unit_rows(1))
    assert store.by_path(odd) is not None
    assert os.fsencode(Store.open(tmp_path).by_path(odd).path) == b"/data/caf\xe9.png"


def test_reconcile_drops_orphan_vectors_and_rows_without_vectors(tmp_path: Path) -> None:
    store = Store.open(tmp_path, MODEL)
    store.add([Item(modality="text", text=t, content_hash=t) for t in "abc"], unit_rows(3))
    index = store.vectors("text")
    index.add(np.array([999]), unit_rows(1, seed=5))  # a vector whose row never committed
    index.remove(np.array([1]))  # a row whose vector never landed
    index.save()
    reopened = Store.open(tmp_path)
    assert sorted(reopened.vectors("text").ids().tolist()) == [2, 3]
    assert set(reopened.get([1, 2, 3])) == {2, 3}


def test_remove_deletes_row_and_vector(tmp_path: Path) -> None:
    store = Store.open(tmp_path, MODEL)
    store.add([Item(modality="audio", path=f"/a/{n}.wav", content_hash=str(n)) for n in range(2)], unit_rows(2))
    store.remove([1])
    assert Store.open(tmp_path).vectors("audio").ids().tolist() == [2]
    assert store.get([1]) == {}
