"""Retrieval metrics: Recall@k (a hit in the top k) and mean average precision, per direction.

Candidates are ranked by descending score; ties keep candidate order (a stable sort), so the
numbers are exact and reproducible. Queries without any relevant candidate are not scored.
Random ranking is scored by its exact expectation, not by a sample.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from math import comb

import numpy as np

KS = (1, 5, 10)


@dataclass(frozen=True)
class Scores:
    queries: int
    candidates: int
    r1: float
    r5: float
    r10: float
    map: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def recall(self, k: int) -> float:
        return {1: self.r1, 5: self.r5, 10: self.r10}[k]


def retrieval_scores(similarity: np.ndarray, relevant: np.ndarray) -> Scores:
    """`similarity` and `relevant` are [queries, candidates]."""
    keep = relevant.any(axis=1)
    similarity, relevant = similarity[keep], relevant[keep]
    if not len(similarity):
        return Scores(0, relevant.shape[1], 0.0, 0.0, 0.0, 0.0)
    order = np.argsort(-similarity, axis=1, kind="stable")
    hits = np.take_along_axis(relevant, order, axis=1).astype(np.float64)  # relevance in rank order
    first = hits.argmax(axis=1)  # rank (0-based) of the first relevant candidate
    precision = np.cumsum(hits, axis=1) / np.arange(1, hits.shape[1] + 1)
    average_precision = (precision * hits).sum(axis=1) / hits.sum(axis=1)
    recall = [float(np.mean(first < k)) for k in KS]
    return Scores(len(hits), hits.shape[1], *recall, float(average_precision.mean()))


def random_scores(relevant: np.ndarray) -> Scores:
    """Expected scores of a uniformly random ranking, exactly."""
    counts = relevant.sum(axis=1)
    counts = counts[counts > 0]
    n = relevant.shape[1]
    if not len(counts):
        return Scores(0, n, 0.0, 0.0, 0.0, 0.0)
    recall = [float(np.mean([1 - comb(n - r, k) / comb(n, k) if k <= n else 1.0 for r in counts])) for k in KS]
    return Scores(len(counts), n, *recall, float(np.mean([expected_average_precision(int(r), n) for r in counts])))


def expected_average_precision(relevant: int, candidates: int) -> float:
    """E[AP] of a random ranking of `candidates` with `relevant` positives:
    (1/N) * sum_n (1/n) * (1 + (r-1)(n-1)/(N-1))."""
    if candidates == 1:
        return 1.0
    ranks = np.arange(1, candidates + 1, dtype=np.float64)
    return float(np.sum((1 + (relevant - 1) * (ranks - 1) / (candidates - 1)) / ranks) / candidates)
