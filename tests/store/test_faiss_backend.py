"""FAISS specifics: filtered search through an id selector on every layout, the same as searching deeper."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from xmodal.store.vectors.faiss_backend import FaissBackend
from xmodal.store.vectors.faiss_layouts import Layout

DIM = 16


def clustered(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((20, DIM))[rng.integers(0, 20, n)] + 0.1 * rng.standard_normal((n, DIM))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def ivf_pq(vectors: np.ndarray) -> faiss.Index:
    """IVF-PQ with 4-bit codes: the layout's search path, trained in seconds rather than the 8-bit minute."""
    index = faiss.index_factory(DIM, "IVF16,PQ4x4", faiss.METRIC_INNER_PRODUCT)
    index.train(vectors)
    faiss.extract_index_ivf(index).set_direct_map_type(faiss.DirectMap.Hashtable)
    return index


@pytest.mark.parametrize("kind", ["flat", "ivf", "ivfpq"])
def test_the_selector_finds_what_searching_deeper_finds(tmp_path, kind) -> None:
    backend, vectors = FaissBackend(tmp_path / "image", DIM), clustered(2_000)
    ids = np.arange(10, 2_010, dtype=np.int64)
    if kind == "ivfpq":
        backend.index = ivf_pq(vectors)
    backend.add(ids, vectors)
    if kind == "ivf":
        backend.rebuild(Layout("ivf", nlist=16))
    if kind != "flat":
        backend.set_nprobe(16)  # every list probed: exact up to quantisation
    allowed = {int(i) for i in ids[::37]}
    selected = backend.search(vectors[:3], 5, allowed=allowed)
    fetched = backend.search_by_fetching(vectors[:3], 5, allowed)
    assert set(selected[1].ravel().tolist()) <= allowed
    np.testing.assert_allclose(selected[0], fetched[0], rtol=1e-5)  # the same best scores, rank by rank
    if kind != "ivfpq":  # 4-bit codes tie often, and ties may come in either order
        np.testing.assert_array_equal(selected[1], fetched[1])
    assert backend.describe()["layout"] == {"flat": "Flat", "ivf": "IVF16,Flat", "ivfpq": "IVF16,PQ4"}[kind]
