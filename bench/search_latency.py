"""Search latency and recall at scale: the store's index layout against exact brute force, same run.

    python bench/search_latency.py [-n 1000000] [--dim 384] [--queries 200]

Generates n clustered unit vectors (the model's dimension), builds the index the store would pick
for that size (training and nprobe tuning included, as `xmodal index` does), then measures p50/p99
single-query latency and recall@10 against exact numpy brute force over the same vectors, and
reports build time and bytes per vector. Targets: recall@10 >= 0.95, p50 >= 50x faster than brute force.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from xmodal.store.vectors.faiss_backend import FaissBackend
from xmodal.store.vectors.faiss_layouts import choose_layout
from xmodal.store.vectors.faiss_tuning import rebuild_and_tune


def clustered(n: int, dim: int, clusters: int, seed: int) -> np.ndarray:
    """Unit vectors around `clusters` centres, generated in chunks to bound memory."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        rows = centres[rng.integers(0, clusters, stop - start)] + 0.6 * rng.standard_normal((stop - start, dim)).astype(np.float32)
        out[start:stop] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def percentiles(times_ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(times_ms, 50)), float(np.percentile(times_ms, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--index-type", default="auto")
    args = parser.parse_args()

    vectors = clustered(args.n, args.dim, clusters=max(10, args.n // 500), seed=0)
    queries = clustered(args.queries, args.dim, clusters=max(10, args.n // 500), seed=0)[::-1].copy()  # same centres
    queries += 0.05 * np.random.default_rng(1).standard_normal(queries.shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    ids = np.arange(1, args.n + 1, dtype=np.int64)

    started = time.perf_counter()
    index = FaissBackend(Path(tempfile.mkdtemp()) / "bench", args.dim)
    index.add(ids, vectors)
    tuning = rebuild_and_tune(index, choose_layout(args.n, args.dim, args.index_type))
    build_s = time.perf_counter() - started
    index.save()
    bytes_per_vector = index.path.stat().st_size / args.n

    exact_ms, exact_ids = [], []
    for query in queries:
        t = time.perf_counter()
        scores = vectors @ query
        top = np.argpartition(-scores, 10)[:10]
        exact_ids.append(ids[top[np.argsort(-scores[top])]])
        exact_ms.append((time.perf_counter() - t) * 1000)
    index_ms, hits = [], 0
    for query, truth in zip(queries, exact_ids):
        t = time.perf_counter()
        _, found = index.search(query[None], 10)
        index_ms.append((time.perf_counter() - t) * 1000)
        hits += len(set(found[0].tolist()) & set(truth.tolist()))
    recall = hits / (10 * len(queries))
    (index_p50, index_p99), (exact_p50, exact_p99) = percentiles(index_ms), percentiles(exact_ms)

    print(f"vectors {args.n} x {args.dim}, layout {tuning.layout}, nprobe {tuning.nprobe}, tuned recall@10 {tuning.recall_at_10}")
    print(f"build (add + train + tune) {build_s:.1f} s, {bytes_per_vector:.0f} bytes/vector on disk")
    print(f"index       p50 {index_p50:8.3f} ms  p99 {index_p99:8.3f} ms  recall@10 {recall:.3f} (fresh queries)")
    print(f"brute force p50 {exact_p50:8.3f} ms  p99 {exact_p99:8.3f} ms  (numpy, exact)")
    print(f"speed-up at p50: {exact_p50 / index_p50:.0f}x   targets: recall@10 >= 0.95, speed-up >= 50x")


if __name__ == "__main__":
    main()
