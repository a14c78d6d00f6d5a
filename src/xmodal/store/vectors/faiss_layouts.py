"""FAISS index layouts by store size: exact `flat` (IDMap2 over FlatIP) for small stores; `ivf`
(IVF-Flat) and `ivfpq` (IVF with product quantisation, when memory asks) above thresholds. IVF
indexes keep a hash-table direct map so that items can be removed and reconstructed without a rebuild.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import faiss
import numpy as np

from xmodal.errors import Invalid

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
        raise Invalid(f"unknown index type {kind!r}; choose one of: {', '.join(LAYOUT_KINDS)}")
    if kind == "auto":
        kind = "flat" if count < FLAT_UNTIL else "ivfpq" if count >= PQ_FROM else "ivf"
    if kind == "flat":
        return Layout("flat")
    nlist = 1 << max(4, min(16, round(math.log2(4 * math.sqrt(max(count, 1))))))  # ~4 sqrt(n), a power of two
    pq_m = max(m for m in range(1, dim // 4 + 1) if dim % m == 0) if kind == "ivfpq" else 0  # 4 dims per code byte
    return Layout(kind, nlist, pq_m)  # type: ignore[arg-type]


def layout_of(index: faiss.Index) -> str:
    if isinstance(index, faiss.IndexIDMap2):
        return "Flat"
    ivf = faiss.downcast_index(faiss.extract_index_ivf(index))
    return f"IVF{ivf.nlist},PQ{ivf.pq.M}" if isinstance(ivf, faiss.IndexIVFPQ) else f"IVF{ivf.nlist},Flat"


def empty_index(layout: Layout, dim: int) -> faiss.Index:
    if layout.kind == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    index = faiss.index_factory(dim, layout.describe(), faiss.METRIC_INNER_PRODUCT)
    faiss.extract_index_ivf(index).set_direct_map_type(faiss.DirectMap.Hashtable)
    return index


def trained(index: faiss.Index, sample: np.ndarray) -> faiss.Index:
    """Train (k-means, PQ codebooks) on the GPU when there is one, else on the CPU."""
    sample = np.ascontiguousarray(sample, dtype=np.float32)
    if gpu_available():
        try:
            on_gpu = faiss.index_cpu_to_all_gpus(index)
            on_gpu.train(sample)
            result = faiss.index_gpu_to_cpu(on_gpu)
            faiss.extract_index_ivf(result).set_direct_map_type(faiss.DirectMap.Hashtable)
            return result
        except RuntimeError:  # a layout the GPU cannot hold: train on the CPU
            pass
    index.train(sample)
    return index
