"""When to move a FAISS index to another layout, and tuning IVF probing to a recall target, measured."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import faiss
import numpy as np

from xmodal.store.vectors.faiss_layouts import Layout, choose_layout

if TYPE_CHECKING:
    from xmodal.store.vectors.faiss_backend import FaissBackend

TARGET_RECALL = 0.95
K = 10


@dataclass(frozen=True)
class Tuning:
    layout: str
    nprobe: int | None
    recall_at_10: float
    count: int  # vectors when measured
    queries: int

    def record(self) -> dict:
        return asdict(self)


def needs_rebuild(index: FaissBackend, recorded: dict | None, kind: str = "auto") -> Layout | None:
    """The layout to move to, or None if the current one still fits. IVF is retrained once the
    store has doubled or halved since it was tuned, as its clusters no longer fit the data."""
    wanted = choose_layout(len(index), index.dim, kind)
    if wanted.kind != index.kind:
        return wanted
    if wanted.kind == "flat":
        return None
    if recorded is None or not recorded["count"] / 2 <= len(index) <= recorded["count"] * 2:
        return wanted
    return None


def rebuild_and_tune(index: FaissBackend, layout: Layout, target: float = TARGET_RECALL, seed: int = 0) -> Tuning:
    """Rebuild into `layout` and choose the smallest nprobe whose recall@10 against exact search on
    the store's own vectors reaches `target` (or the best reachable one)."""
    ids, vectors = index.all_vectors()  # exact while the old layout is Flat or IVF-Flat
    index.rebuild(layout, seed=seed)
    if layout.kind == "flat" or len(ids) == 0:
        return Tuning(index.layout, None, 1.0, len(ids), 0)
    rng = np.random.default_rng(seed)
    picked = rng.permutation(len(ids))[: min(500, len(ids))]
    queries, own = vectors[picked], ids[picked]
    exact = _without_self(_exact_top_k(vectors, ids, queries), own)
    best = (0.0, 1)
    nprobe = 1
    while nprobe <= layout.nlist:
        index.set_nprobe(nprobe)
        recall = _recall(_without_self(index.search(queries, K + 1)[1], own), exact)
        if recall >= target or recall < best[0] + 0.002:  # reached, or a plateau (PQ's quantisation caps it)
            best = max(best, (recall, nprobe), key=lambda pair: pair[0])
            break
        best = (recall, nprobe)
        nprobe *= 2
    index.set_nprobe(best[1])
    return Tuning(index.layout, best[1], round(best[0], 4), len(ids), len(queries))


def _exact_top_k(vectors: np.ndarray, ids: np.ndarray, queries: np.ndarray) -> np.ndarray:
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    _, positions = flat.search(queries, K + 1)
    return ids[positions]


def _without_self(found: np.ndarray, own: np.ndarray) -> list[list[int]]:
    """Queries are stored vectors: their trivial self-match would flatter recall, so drop it."""
    return [[item for item in row.tolist() if item != query][:K] for row, query in zip(found, own)]


def _recall(found: list[list[int]], exact: list[list[int]]) -> float:
    hits = sum(len(set(row_found) & set(row_exact)) for row_found, row_exact in zip(found, exact))
    return hits / sum(len(row) for row in exact)
