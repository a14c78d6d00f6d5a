"""One FAISS index per modality whose vector ids are item ids; written atomically, reloaded when changed.

Layouts: exact `flat` (IDMap2 over FlatIP) for small stores; `ivf` (IVF-Flat) and `ivfpq` (IVF with
product quantisation, when memory asks) above thresholds. IVF indexes keep a hash-table direct
map so that items can be removed and reconstructed without a rebuild.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import faiss
import numpy as np

LayoutKind = Literal["flat", "ivf", "ivfpq"]
LAYOUT_KINDS = ("auto", "flat", "ivf", "ivfpq")
FLAT_UNTIL = 50_000  # below this many vectors exact search is fast enough (~5 ms at 384-d)
PQ_FROM = 2_000_000  # from here raw float32 vectors get heavy (~3 GB at 384-d): compress


def gpu_available() -> bool:
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


@dataclass(frozen=True)
class Layout:
    kind: LayoutKind
    nlist: int = 0
    pq_m: int = 0

    def describe(self) -> str:
        return {"flat": "Flat", "ivf": f"IVF{self.nlist},Flat", "ivfpq": f"IVF{self.nlist},PQ{self.pq_m}"}[self.kind]


def choose_layout(count: int, dim: int, kind: str = "auto") -> Layout:
    if kind not in LAYOUT_KINDS:
        raise ValueError(f"unknown index type {kind!r}; choose one of: {', '.join(LAYOUT_KINDS)}")
    if kind == "auto":
        kind = "flat" if count < FLAT_UNTIL else "ivfpq" if count >= PQ_FROM else "ivf"
    if kind == "flat":
        return Layout("flat")
    nlist = 1 << max(4, min(16, round(math.log2(4 * math.sqrt(max(count, 1))))))  # ~4 sqrt(n), a power of two
    pq_m = max(m for m in range(1, dim // 4 + 1) if dim % m == 0) if kind == "ivfpq" else 0  # 4 dims per code byte
    return Layout(kind, nlist, pq_m)  # type: ignore[arg-type]


def empty_index(layout: Layout, dim: int) -> faiss.Index:
    if layout.kind == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    index = faiss.index_factory(dim, layout.describe(), faiss.METRIC_INNER_PRODUCT)
    faiss.extract_index_ivf(index).set_direct_map_type(faiss.DirectMap.Hashtable)
    return index


class VectorIndex:
    def __init__(self, path: Path, dim: int) -> None:
        self.path = path
        self.dim = dim
        self._stamp: tuple[int, int] | None = None
        self._gpu_copy: faiss.Index | None = None
        self.index = self._read() if path.exists() else empty_index(Layout("flat"), dim)
        self.dirty = False  # changed since the file was written

    def _read(self) -> faiss.Index:
        stat = self.path.stat()
        index = faiss.read_index(str(self.path))
        if index.d != self.dim:
            raise ValueError(f"{self.path} holds {index.d}-d vectors but the store's model is {self.dim}-d")
        self._stamp = (stat.st_mtime_ns, stat.st_size)
        return index

    def refresh(self) -> bool:
        """Reload if another process saved a newer file (a reader next to a running job)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return False
        if (stat.st_mtime_ns, stat.st_size) == self._stamp:
            return False
        self.index, self._gpu_copy = self._read(), None
        return True

    def __len__(self) -> int:
        return self.index.ntotal

    @property
    def layout(self) -> str:
        if isinstance(self.index, faiss.IndexIDMap2):
            return "Flat"
        ivf = faiss.downcast_index(faiss.extract_index_ivf(self.index))
        return f"IVF{ivf.nlist},PQ{ivf.pq.M}" if isinstance(ivf, faiss.IndexIVFPQ) else f"IVF{ivf.nlist},Flat"

    @property
    def kind(self) -> LayoutKind:
        layout = self.layout
        return "flat" if layout == "Flat" else "ivfpq" if ",PQ" in layout else "ivf"

    @property
    def nprobe(self) -> int | None:
        return None if isinstance(self.index, faiss.IndexIDMap2) else faiss.extract_index_ivf(self.index).nprobe

    def set_nprobe(self, nprobe: int) -> None:
        faiss.extract_index_ivf(self.index).nprobe = nprobe
        self._gpu_copy, self.dirty = None, True

    def ids(self) -> np.ndarray:
        if isinstance(self.index, faiss.IndexIDMap2):
            return faiss.vector_to_array(self.index.id_map).astype(np.int64)
        lists = faiss.extract_index_ivf(self.index).invlists
        chunks = [np.zeros(0, dtype=np.int64)]
        for number in range(lists.nlist):
            size = lists.list_size(number)
            if size:
                pointer = lists.get_ids(number)
                chunks.append(faiss.rev_swig_ptr(pointer, size).copy())
                lists.release_ids(number, pointer)
        return np.concatenate(chunks)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"expected [n, {self.dim}] vectors, got {vectors.shape}")
        self.index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))
        self._gpu_copy = None
        self.dirty = True

    def remove(self, ids: np.ndarray) -> int:
        self._gpu_copy, self.dirty = None, True
        return int(self.index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64)))

    def vector(self, item_id: int) -> np.ndarray:
        return self.index.reconstruct(int(item_id))

    def all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (id, vector); exact for Flat and IVF-Flat, decoded approximations for IVF-PQ."""
        if isinstance(self.index, faiss.IndexIDMap2):
            return self.ids(), self.index.index.reconstruct_n(0, self.index.ntotal)
        ids = self.ids()
        return ids, self.index.reconstruct_batch(ids) if len(ids) else np.zeros((0, self.dim), np.float32)

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
            except RuntimeError:  # an index type without a GPU implementation: stay on the CPU
                return self.index
        return self._gpu_copy

    def rebuild(self, layout: Layout, seed: int = 0) -> None:
        """Move every vector into a fresh index of `layout`, training it on a sample."""
        ids, vectors = self.all_vectors()
        index = empty_index(layout, self.dim)
        if layout.kind != "flat":
            sample = np.random.default_rng(seed).permutation(len(ids))[: max(40 * layout.nlist, 50_000)]  # FAISS wants >= 39 per list
            index = _train(index, vectors[sample])
        for start in range(0, len(ids), 100_000):
            index.add_with_ids(vectors[start : start + 100_000], ids[start : start + 100_000])
        self.index, self._gpu_copy, self.dirty = index, None, True

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".faiss.tmp")
        faiss.write_index(self.index, str(temporary))
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        stat = self.path.stat()
        self._stamp, self.dirty = (stat.st_mtime_ns, stat.st_size), False


def _train(index: faiss.Index, sample: np.ndarray) -> faiss.Index:
    """Train (k-means, PQ codebooks) on the GPU when there is one, else on the CPU."""
    if gpu_available():
        try:
            trained = faiss.index_gpu_to_cpu(_trained(faiss.index_cpu_to_all_gpus(index), sample))
            faiss.extract_index_ivf(trained).set_direct_map_type(faiss.DirectMap.Hashtable)
            return trained
        except RuntimeError:  # a layout the GPU cannot hold: train on the CPU
            pass
    return _trained(index, sample)


def _trained(index: faiss.Index, sample: np.ndarray) -> faiss.Index:
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    return index
