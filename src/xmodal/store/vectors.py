"""One FAISS index per modality whose vector ids are item ids; saved atomically."""

from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np


def gpu_available() -> bool:
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


class VectorIndex:
    def __init__(self, path: Path, dim: int) -> None:
        self.path = path
        self.dim = dim
        if path.exists():
            self.index = faiss.read_index(str(path))
            if self.index.d != dim:
                raise ValueError(f"{path} holds {self.index.d}-d vectors but the store's model is {dim}-d")
        else:
            self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._gpu_copy: faiss.Index | None = None

    def __len__(self) -> int:
        return self.index.ntotal

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"expected [n, {self.dim}] vectors, got {vectors.shape}")
        self.index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))
        self._gpu_copy = None

    def remove(self, ids: np.ndarray) -> int:
        self._gpu_copy = None
        return int(self.index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64)))

    def vector(self, item_id: int) -> np.ndarray:
        return self.index.reconstruct(int(item_id))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and ids, [n, k] each; missing slots have id -1."""
        k = min(k, len(self))
        if k == 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        return self._searchable().search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def _searchable(self) -> faiss.Index:
        if not gpu_available():
            return self.index
        if self._gpu_copy is None:
            try:
                self._gpu_copy = faiss.index_cpu_to_all_gpus(self.index)
            except RuntimeError:  # an index type without a GPU implementation
                return self.index
        return self._gpu_copy

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".faiss.tmp")
        faiss.write_index(self.index, str(temporary))
        os.replace(temporary, self.path)
