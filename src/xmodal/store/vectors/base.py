"""The contract every vector backend honours: one index per modality whose ids are item ids.

A backend keeps its vectors in files next to the store's database (`vectors/<modality>.<suffix>`),
written atomically by `save` and picked up by readers with `refresh`. Scores are inner products of
unit vectors (cosine similarity); results come best first, padded with id -1.
`tests/store/test_vector_contract.py` runs the same checks on every registered backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from xmodal.errors import Conflict

Results = tuple[np.ndarray, np.ndarray]  # scores float32 [n, k], ids int64 [n, k]


class VectorBackend(ABC):
    name: ClassVar[str]  # what the factory and the store's record call it
    suffix: ClassVar[str]  # its file's suffix, e.g. ".faiss"

    def __init__(self, stem: Path, dim: int) -> None:
        """`stem` is the file's path without the suffix (`<store>/vectors/image`); the file may not exist yet."""
        self.path = stem.with_name(stem.name + self.suffix)
        self.dim = dim
        self.dirty = False  # changed since the file was written

    # --- the contract ---------------------------------------------------------------------------

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors [n, dim] under item ids [n] (ids not already present)."""

    @abstractmethod
    def remove(self, ids: np.ndarray) -> int:
        """Remove these ids (absent ones are ignored); returns how many were removed."""

    @abstractmethod
    def search(self, queries: np.ndarray, k: int, allowed: set[int] | None = None) -> Results:
        """The best min(k, count) matches of each query [n, dim], only among `allowed` ids when given."""

    @abstractmethod
    def vector(self, item_id: int) -> np.ndarray:
        """The stored vector of an id; KeyError when absent."""

    @abstractmethod
    def ids(self) -> np.ndarray: ...

    @abstractmethod
    def save(self) -> None:
        """Write the file atomically (a reader or a crash sees the old file or the new, never half)."""

    @abstractmethod
    def refresh(self) -> bool:
        """Reload when another process saved a newer file; True if it did."""

    @abstractmethod
    def optimize(self, kind: str = "auto", recorded: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Choose the layout the size calls for (or `kind`) and measure its recall; returns the record
        to keep (layout, recall_at_10, count, ...) when something was (re)done, else None. `recorded`
        is what the last call returned."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """For `info` and health: at least backend, layout and vectors."""

    @classmethod
    def device(cls) -> str:
        """Where searches run: 'cpu' or 'gpu'."""
        return "cpu"

    # --- shared helpers -------------------------------------------------------------------------

    def __len__(self) -> int:
        return self.count()

    def checked(self, vectors: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
        """float32, C-contiguous [n, dim]; a wrong shape is a bug in the caller."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"expected [n, {self.dim}] vectors, got {vectors.shape}")
        if ids is not None and len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        return vectors

    def wrong_dimension(self, found: int) -> Conflict:
        return Conflict(f"{self.path} holds {found}-d vectors but the store's model is {self.dim}-d")

    def search_by_fetching(self, queries: np.ndarray, k: int, allowed: set[int]) -> Results:
        """Filtered search for an index that cannot filter: search deeper until k allowed ids are found."""
        rows = [self._allowed_row(query[None, :], k, allowed) for query in queries]
        return np.array([row[0] for row in rows], np.float32), np.array([row[1] for row in rows], np.int64)

    def _allowed_row(self, query: np.ndarray, k: int, allowed: set[int]) -> tuple[list[float], list[int]]:
        total, want = self.count(), min(k, len(allowed), self.count())
        fetch = min(max(2 * want, 16), total)
        while want:
            scores, ids = self.search(query, fetch)
            kept = [(float(s), int(i)) for s, i in zip(scores[0], ids[0]) if i >= 0 and int(i) in allowed][:want]
            if len(kept) >= want or fetch >= total:
                padding = min(k, total) - len(kept)
                return [s for s, _ in kept] + [-np.inf] * padding, [i for _, i in kept] + [-1] * padding
            fetch = min(fetch * 4, total)
        return [-np.inf] * min(k, total), [-1] * min(k, total)
