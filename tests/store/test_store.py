from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.fakes import DIM
from xmodal.store import Item, Store, StoreError
from xmodal.store.schema import SCHEMA_VERSION, StoreInfo

MODEL = {"spec": "fake", "version": "1", "dim": DIM}


def unit_rows(n: int, seed: int = 0, dim: int = DIM) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def writer(path: Path, database_url: str | None = None) -> Store:
    return Store.open(path, MODEL, writable=True, database_url=database_url)


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no xmodal store"):
        Store.open(tmp_path / "nowhere")
    with pytest.raises(StoreError, match="no xmodal store"):
        Store.open(tmp_path / "nowhere", MODEL)  # creating needs a writer


def test_the_metadata_may_live_behind_any_database_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    store = Store.open(tmp_path / "store", MODEL, writable=True, database_url=url)
    store.add([Item(modality="text", text="a", content_hash="a")], unit_rows(1))
    store.close()
    assert not (tmp_path / "store" / "xmodal.db").exists() and (tmp_path / "elsewhere.db").exists()
    assert Store.open(tmp_path / "store", database_url=url).counts() == {"text": {"indexed": 1}}
    with pytest.raises(StoreError, match="no xmodal store"):
        Store.open(tmp_path / "store")
    with pytest.raises(StoreError, match="no xmodal store"):
        Store.open(tmp_path / "other", database_url=f"sqlite:///{tmp_path / 'empty.db'}")


def test_store_refuses_another_model(tmp_path: Path, database_url: str | None) -> None:
    writer(tmp_path, database_url).close()
    assert Store.open(tmp_path, database_url=database_url).model == MODEL
    with pytest.raises(StoreError, match="built with model fake version 1"):
        Store.open(tmp_path, {**MODEL, "version": "2"}, writable=True, database_url=database_url)


def test_store_refuses_a_newer_schema(tmp_path: Path, database_url: str | None) -> None:
    store = writer(tmp_path, database_url)
    store.set_info("schema_version", SCHEMA_VERSION + 1)
    store.close()
    with pytest.raises(StoreError, match="newer than this xmodal"):
        Store.open(tmp_path, database_url=database_url)


def test_only_one_writer_at_a_time(tmp_path: Path, database_url: str | None) -> None:
    store = writer(tmp_path, database_url)
    with pytest.raises(StoreError, match=f"being written by process {os.getpid()}"):
        writer(tmp_path, database_url)
    Store.open(tmp_path, database_url=database_url)  # readers are welcome
    store.close()
    writer(tmp_path, database_url).close()


def test_vectors_and_rows_persist_and_search(tmp_path: Path, database_url: str | None) -> None:
    store = writer(tmp_path, database_url)
    vectors = unit_rows(3)
    store.add([Item(modality="image", path=f"/x/{n}.png", content_hash=str(n)) for n in range(3)], vectors)
    store.close()
    reopened = Store.open(tmp_path, database_url=database_url)
    scores, ids = reopened.vectors("image").search(vectors[1:2], 1)
    assert reopened.get([int(ids[0][0])])[int(ids[0][0])].path == "/x/1.png"
    assert scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert reopened.counts() == {"image": {"indexed": 3}}


def test_a_reader_sees_what_the_writer_saves(tmp_path: Path, database_url: str | None) -> None:
    store = writer(tmp_path, database_url)
    store.add([Item(modality="text", text="a", content_hash="a")], unit_rows(1))
    store.save()
    reader = Store.open(tmp_path, database_url=database_url)
    assert len(reader.vectors("text")) == 1
    store.add([Item(modality="text", text="b", content_hash="b")], unit_rows(1, seed=1))
    assert len(reader.vectors("text")) == 1  # not saved yet
    store.save()
    assert len(reader.vectors("text")) == 2


def test_non_utf8_path_round_trips(tmp_path: Path, database_url: str | None) -> None:
    store = writer(tmp_path, database_url)
    odd = os.fsdecode(b"/data/caf\xe9.png")  # a Latin-1 name on a UTF-8 file system
    store.add([Item(modality="image", path=odd, content_hash="h")], unit_rows(1))
    store.close()
    assert os.fsencode(Store.open(tmp_path, database_url=database_url).by_path(odd).path) == b"/data/caf\xe9.png"


def test_verify_finds_and_repair_fixes_disagreements(tmp_path: Path, database_url: str | None) -> None:
    store = writer(tmp_path, database_url)
    store.add([Item(modality="text", text=t, content_hash=t) for t in "abc"], unit_rows(3))
    index = store.vectors("text")
    index.add(np.array([999]), unit_rows(1, seed=5))  # a vector whose row never committed
    index.remove(np.array([1]))  # a row whose vector never landed
    store.save()
    (tmp_path / "vectors" / "image.faiss.tmp").write_bytes(b"half")
    problems = store.verify()
    assert any("1 vectors have no indexed row" in p for p in problems)
    assert any("1 indexed rows have no vector" in p for p in problems)
    assert any("image.faiss.tmp" in p for p in problems)
    done = store.repair()
    assert len(done) == 3
    assert store.verify() == ["text: 1 rows wait to be re-embedded, their vectors were lost (e.g. id 1)"]
    store.close()
    reopened = Store.open(tmp_path, database_url=database_url)
    assert sorted(reopened.vectors("text").ids().tolist()) == [2, 3]
    kept = reopened.get([1, 2, 3])  # a row is never deleted because its vector is missing (issue 8 #8)
    assert {item_id: item.status for item_id, item in kept.items()} == {1: "lost", 2: "indexed", 3: "indexed"}


def test_remove_deletes_row_vector_and_duplicates(tmp_path: Path, database_url: str | None) -> None:
    store = writer(tmp_path, database_url)
    store.add([Item(modality="audio", path=f"/a/{n}.wav", content_hash=str(n)) for n in range(2)], unit_rows(2))
    store.add_duplicate("/a/copy.wav", 1, 10, 1.0)
    store.remove([1])
    store.close()
    assert Store.open(tmp_path, database_url=database_url).vectors("audio").ids().tolist() == [2]
    assert Store.open(tmp_path, database_url=database_url).duplicate_at("/a/copy.wav") is None


def test_optimize_moves_to_ivf_above_the_threshold_and_records_recall(
    tmp_path: Path, database_url: str | None, monkeypatch
) -> None:
    monkeypatch.setattr("xmodal.store.vectors.faiss_layouts.FLAT_UNTIL", 2_000)
    store = writer(tmp_path, database_url)
    centres = unit_rows(40, seed=1)
    labels = np.random.default_rng(2).integers(0, 40, 3_000)
    clustered = centres[labels] + 0.05 * unit_rows(3_000, seed=3)
    store.add(
        [Item(modality="image", path=f"/i/{n}", content_hash=str(n)) for n in range(3_000)],
        clustered / np.linalg.norm(clustered, axis=1, keepdims=True),
    )
    tunings = store.optimize()
    assert tunings["image"]["layout"].startswith("IVF") and tunings["image"]["recall_at_10"] >= 0.95
    assert store.info("index:image")["nprobe"] == tunings["image"]["nprobe"]
    assert store.optimize() == {}  # nothing changed: nothing redone
    store.close()
    reader = Store.open(tmp_path, database_url=database_url)
    assert reader.vectors("image").describe()["layout"].startswith("IVF") and len(reader.vectors("image")) == 3_000
    np.testing.assert_allclose(np.linalg.norm(reader.vectors("image").vector(7)), 1.0, atol=1e-5)


def test_a_store_records_its_vector_backend_and_keeps_it(tmp_path: Path, database_url: str | None) -> None:
    store = Store.open(tmp_path, MODEL, writable=True, database_url=database_url, vector_backend="numpy")
    store.add([Item(modality="image", path=f"/x/{n}.png", content_hash=str(n)) for n in range(3)], unit_rows(3))
    store.close()
    assert (tmp_path / "vectors" / "image.npz").exists() and not (tmp_path / "vectors" / "image.faiss").exists()
    reader = Store.open(tmp_path, database_url=database_url)
    assert reader.backend == "numpy" and reader.info("vector_backend") == "numpy"
    assert reader.vectors("image").search(unit_rows(3)[1:2], 1)[1][0][0] == 2
    with pytest.raises(StoreError, match="keeps its vectors with 'numpy'; it cannot switch to 'faiss'"):
        Store.open(tmp_path, MODEL, writable=True, database_url=database_url, vector_backend="faiss")
    again = Store.open(tmp_path, MODEL, writable=True, database_url=database_url, vector_backend="numpy")
    assert again.backend == "numpy"


def test_a_store_made_before_backends_had_names_is_faiss(tmp_path: Path, database_url: str | None) -> None:
    writer(tmp_path, database_url).close()
    with Store.open(tmp_path, database_url=database_url).sessions.begin() as session:
        session.delete(session.get(StoreInfo, "vector_backend"))
    assert Store.open(tmp_path, database_url=database_url).backend == "faiss"
    store = writer(tmp_path, database_url)
    assert store.info("vector_backend") == "faiss"
    store.close()
