"""FAISS: one index file per modality whose vector ids are item ids; the layout follows the size
(`faiss_layouts`), IVF probing is tuned to a recall target (`faiss_tuning`), and searches run on the
GPU when FAISS has one (a CPU copy is what is saved). Filtered searches pass an id selector to the
index; where the index cannot take one (a GPU copy), they search deeper until enough ids pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss
import numpy as np

from xmodal.files import atomic_write
from xmodal.store.vectors.base import Results, VectorBackend
from xmodal.store.vectors.faiss_layouts import Layout, LayoutKind, empty_index, gpu_available, layout_of, trained
from xmodal.store.vectors.faiss_tuning import Tuning, needs_rebuild, rebuild_and_tune


class FaissBackend(VectorBackend):
    name = "faiss"
    suffix = ".faiss"

    def __init__(self, stem: Path, dim: int) -> None:
        super().__init__(stem, dim)
        self._stamp: tuple[int, int] | None = None
        self._gpu_copy: faiss.Index | None = None
        self.index = self._read() if self.path.exists() else empty_index(Layout("flat"), dim)

    @classmethod
    def device(cls) -> str:
        return "gpu" if gpu_available() else "cpu"

    def _read(self) -> faiss.Index:
        stat = self.path.stat()
        index = faiss.read_index(str(self.path))
        if index.d != self.dim:
            raise self.wrong_dimension(index.d)
        self._stamp = (stat.st_mtime_ns, stat.st_size)
        return index

    def refresh(self) -> bool:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return False
        if (stat.st_mtime_ns, stat.st_size) == self._stamp:
            return False
        self.index, self._gpu_copy = self._read(), None
        return True

    def count(self) -> int:
        return int(self.index.ntotal)

    @property
    def layout(self) -> str:
        return layout_of(self.index)

    @property
    def kind(self) -> LayoutKind:
        layout = self.layout
        return "flat" if layout == "Flat" else "ivfpq" if ",PQ" in layout else "ivf"

    @property
    def nprobe(self) -> int | None:
        return None if isinstance(self.index, faiss.IndexIDMap2) else faiss.extract_index_ivf(self.index).nprobe

    def set_nprobe(self, nprobe: int) -> None:
        faiss.extract_index_ivf(self.index).nprobe = nprobe
        self._changed()

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
        vectors = self.checked(vectors, ids)
        self.index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))
        self._changed()

    def remove(self, ids: np.ndarray) -> int:
        self._changed()
        return int(self.index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64)))

    def vector(self, item_id: int) -> np.ndarray:
        try:
            return self.index.reconstruct(int(item_id))
        except RuntimeError:  # FAISS says so with an exception of its own
            raise KeyError(item_id) from None

    def all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (id, vector); exact for Flat and IVF-Flat, decoded approximations for IVF-PQ."""
        if isinstance(self.index, faiss.IndexIDMap2):
            return self.ids(), self.index.index.reconstruct_n(0, self.index.ntotal)
        ids = self.ids()
        return ids, self.index.reconstruct_batch(ids) if len(ids) else np.zeros((0, self.dim), np.float32)

    def search(self, queries: np.ndarray, k: int, allowed: set[int] | None = None) -> Results:
        queries = self.checked(queries)
        k = min(k, self.count())
        if k == 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        searchable = self._searchable()
        if allowed is None:
            return searchable.search(queries, k)
        if searchable is self.index:
            try:
                return self.index.search(queries, k, params=self._selecting(allowed))
            except RuntimeError:  # an index type without selector support
                pass
        return self.search_by_fetching(queries, k, allowed)

    def _selecting(self, allowed: set[int]) -> faiss.SearchParameters:
        selector = faiss.IDSelectorBatch(np.fromiter(allowed, dtype=np.int64, count=len(allowed)))
        if isinstance(self.index, faiss.IndexIDMap2):
            params = faiss.SearchParameters(sel=selector)
        else:
            params = faiss.SearchParametersIVF(sel=selector, nprobe=faiss.extract_index_ivf(self.index).nprobe)
        params.keep_alive = selector  # the parameters hold a raw pointer to it
        return params

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
            wanted = max(40 * layout.nlist, 50_000)  # FAISS wants >= 39 per list
            sample = np.random.default_rng(seed).permutation(len(ids))[:wanted]
            index = trained(index, vectors[sample])
        for start in range(0, len(ids), 100_000):
            index.add_with_ids(vectors[start : start + 100_000], ids[start : start + 100_000])
        self.index = index
        self._changed()

    def optimize(self, kind: str = "auto", recorded: dict[str, Any] | None = None) -> dict[str, Any] | None:
        layout = needs_rebuild(self, recorded, kind)
        if layout is not None:
            return rebuild_and_tune(self, layout).record()
        if self.kind == "flat" and self.count() and (recorded or {}).get("count") != self.count():
            return Tuning(self.layout, None, 1.0, self.count(), 0).record()  # exact: nothing to tune
        return None

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "layout": self.layout, "vectors": self.count(), "nprobe": self.nprobe}

    def save(self) -> None:
        atomic_write(self.path, lambda temporary: faiss.write_index(self.index, str(temporary)))
        stat = self.path.stat()
        self._stamp, self.dirty = (stat.st_mtime_ns, stat.st_size), False

    def _changed(self) -> None:
        self._gpu_copy, self.dirty = None, True
