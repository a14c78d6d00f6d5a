"""The contract every vector backend must pass, run on each registered one (random vectors, tmp files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xmodal.errors import Conflict, Invalid
from xmodal.store.vectors import BACKENDS, VectorBackend, backend_class, open_backend

DIM = 16
BIG = 2**40  # ids are int64 item ids, far beyond 32 bits


def unit(n: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture(params=sorted(BACKENDS))
def name(request) -> str:
    return request.param


def fresh(name: str, folder: Path, dim: int = DIM) -> VectorBackend:
    return open_backend(name, folder / "vectors" / "image", dim)


def filled(name: str, folder: Path, n: int = 50) -> tuple[VectorBackend, np.ndarray, np.ndarray]:
    backend, ids, vectors = fresh(name, folder), BIG + np.arange(n, dtype=np.int64) * 7, unit(n)
    backend.add(ids, vectors)
    return backend, ids, vectors


def exact(vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return ids[np.argsort(-(vectors @ query))[:k]].tolist()


def test_an_empty_index(name, tmp_path) -> None:
    backend = fresh(name, tmp_path)
    assert backend.count() == len(backend) == 0 and backend.ids().tolist() == []
    scores, ids = backend.search(unit(2), 5)
    assert scores.shape == ids.shape == (2, 0) and ids.dtype == np.int64
    with pytest.raises(KeyError):
        backend.vector(1)
    backend.save()
    assert fresh(name, tmp_path).count() == 0 and backend.describe()["vectors"] == 0


def test_add_search_vector_and_ids(name, tmp_path) -> None:
    backend, ids, vectors = filled(name, tmp_path)
    assert backend.count() == 50 and sorted(backend.ids().tolist()) == ids.tolist() and backend.dirty
    scores, found = backend.search(vectors[[3, 9]], 5)
    assert found.shape == (2, 5) and found[:, 0].tolist() == [ids[3], ids[9]]
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all()  # best first
    assert found[0].tolist() == exact(vectors, ids, vectors[3], 5)
    assert backend.search(vectors[:1], 500)[1].shape == (1, 50)  # never more than it holds
    np.testing.assert_allclose(backend.vector(int(ids[7])), vectors[7], atol=1e-6)
    with pytest.raises(KeyError):
        backend.vector(12345)


def test_search_among_allowed_ids_only(name, tmp_path) -> None:
    backend, ids, vectors = filled(name, tmp_path)
    allowed = {int(i) for i in ids[::5]} | {999}  # an unknown id is harmless
    scores, found = backend.search(vectors[:2], 4, allowed=allowed)
    subset = np.isin(ids, list(allowed))
    for row, query in zip(found, vectors[:2]):
        assert row.tolist() == exact(vectors[subset], ids[subset], query, 4)
    _, few = backend.search(vectors[:1], 20, allowed={int(ids[1]), int(ids[2])})
    assert sorted(few[0][:2].tolist()) == sorted(ids[1:3].tolist()) and set(few[0][2:].tolist()) == {-1}
    assert set(backend.search(vectors[:1], 3, allowed=set())[1][0].tolist()) == {-1}


def test_remove(name, tmp_path) -> None:
    backend, ids, vectors = filled(name, tmp_path)
    assert backend.remove(np.array([ids[3], ids[4], 77])) == 2
    assert backend.count() == 48 and ids[3] not in backend.ids()
    assert ids[3] not in backend.search(vectors[3:4], 48)[1][0]
    with pytest.raises(KeyError):
        backend.vector(int(ids[3]))


def test_save_reload_and_refresh_after_another_writer(name, tmp_path) -> None:
    writer, ids, vectors = filled(name, tmp_path)
    writer.save()
    assert not writer.dirty and not list((tmp_path / "vectors").glob("*.tmp"))
    reader = fresh(name, tmp_path)
    assert sorted(reader.ids().tolist()) == ids.tolist() and reader.refresh() is False
    np.testing.assert_allclose(reader.vector(int(ids[5])), vectors[5], atol=1e-6)
    writer.add(np.array([BIG * 3]), unit(1, seed=9))
    assert reader.refresh() is False and reader.count() == 50  # not saved yet
    writer.save()
    assert reader.refresh() is True and reader.count() == 51 and reader.search(unit(1, seed=9), 1)[1][0][0] == BIG * 3
    assert reader.refresh() is False


def test_dimension_errors(name, tmp_path) -> None:
    backend, ids, _ = filled(name, tmp_path)
    with pytest.raises(ValueError, match=f"expected \\[n, {DIM}\\]"):
        backend.add(np.array([1]), np.ones((1, DIM + 1), np.float32))
    with pytest.raises(ValueError):
        backend.search(np.ones((1, DIM - 1), np.float32), 3)
    backend.save()
    with pytest.raises(Conflict, match=f"holds {DIM}-d vectors but the store's model is 8-d"):
        fresh(name, tmp_path, dim=8)


def test_optimize_and_describe(name, tmp_path) -> None:
    backend, _, vectors = filled(name, tmp_path)
    record = backend.optimize("auto", None)
    assert record is not None and record["count"] == 50 and record["recall_at_10"] == 1.0
    assert backend.optimize("auto", record) is None  # nothing changed: nothing redone
    described = backend.describe()
    assert described["backend"] == name and described["vectors"] == 50 and described["layout"]
    assert backend.device() in ("cpu", "gpu")
    assert backend.search(vectors[:1], 1)[1][0][0] == BIG  # still searchable after optimizing


def test_the_factory_names_the_choices_and_takes_dotted_paths() -> None:
    with pytest.raises(Invalid, match="unknown vector backend 'annoy'; choose one of: faiss, numpy"):
        backend_class("annoy")
    assert backend_class("xmodal.store.vectors.numpy_backend:NumpyBackend").name == "numpy"
    assert backend_class("xmodal.store.vectors.numpy_backend.NumpyBackend").name == "numpy"
    with pytest.raises(Invalid, match="is not a VectorBackend"):
        backend_class("pathlib.Path")
    with pytest.raises(Invalid, match="has no Missing"):
        backend_class("xmodal.store.vectors.numpy_backend:Missing")
