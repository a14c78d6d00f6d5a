"""Exact search in plain numpy: for tests, tiny stores, and machines without FAISS.

The file is an `.npz` holding two arrays, `ids` [n] int64 and `vectors` [n, dim] float32, so one
rename replaces both together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from xmodal.files import atomic_write
from xmodal.store.vectors.base import Results, VectorBackend


class NumpyBackend(VectorBackend):
    name = "numpy"
    suffix = ".npz"

    def __init__(self, stem: Path, dim: int) -> None:
        super().__init__(stem, dim)
        self._stamp: tuple[int, int] | None = None
        self._ids = np.zeros(0, np.int64)
        self._vectors = np.zeros((0, dim), np.float32)
        if self.path.exists():
            self._read()

    def _read(self) -> None:
        stat = self.path.stat()
        with np.load(self.path) as arrays:
            ids, vectors = arrays["ids"].astype(np.int64), arrays["vectors"].astype(np.float32)
        if vectors.shape[1] != self.dim:
            raise self.wrong_dimension(vectors.shape[1])
        self._ids, self._vectors, self._stamp = ids, vectors, (stat.st_mtime_ns, stat.st_size)

    def refresh(self) -> bool:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return False
        if (stat.st_mtime_ns, stat.st_size) == self._stamp:
            return False
        self._read()
        return True

    def count(self) -> int:
        return len(self._ids)

    def ids(self) -> np.ndarray:
        return self._ids.copy()

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        vectors = self.checked(vectors, ids)
        self._ids = np.concatenate([self._ids, np.asarray(ids, np.int64)])
        self._vectors = np.concatenate([self._vectors, vectors])
        self.dirty = True

    def remove(self, ids: np.ndarray) -> int:
        keep = ~np.isin(self._ids, np.asarray(ids, np.int64))
        removed = int(len(keep) - keep.sum())
        self._ids, self._vectors, self.dirty = self._ids[keep], self._vectors[keep], True
        return removed

    def vector(self, item_id: int) -> np.ndarray:
        found = np.flatnonzero(self._ids == item_id)
        if not len(found):
            raise KeyError(item_id)
        return self._vectors[found[0]].copy()

    def search(self, queries: np.ndarray, k: int, allowed: set[int] | None = None) -> Results:
        queries = self.checked(queries)
        k = min(k, self.count())
        scores = queries @ self._vectors.T  # [n, count]
        if allowed is not None:
            scores[:, ~np.isin(self._ids, np.fromiter(allowed, np.int64, len(allowed)))] = -np.inf
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        best = np.take_along_axis(scores, order, axis=1).astype(np.float32)
        ids = np.where(np.isfinite(best), self._ids[order], -1)
        return best, ids.astype(np.int64)

    def optimize(self, kind: str = "auto", recorded: dict[str, Any] | None = None) -> dict[str, Any] | None:
        if not self.count() or (recorded or {}).get("count") == self.count():
            return None
        return {"layout": "Exact", "nprobe": None, "recall_at_10": 1.0, "count": self.count(), "queries": 0}

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "layout": "Exact", "vectors": self.count()}

    def save(self) -> None:
        def write(temporary: Path) -> None:
            with open(temporary, "wb") as handle:  # a handle: np.savez would add .npz to a name
                np.savez(handle, ids=self._ids, vectors=self._vectors)

        atomic_write(self.path, write)
        stat = self.path.stat()
        self._stamp, self.dirty = (stat.st_mtime_ns, stat.st_size), False
