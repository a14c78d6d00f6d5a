"""Make similarities of different result kinds comparable in one mixed list.

A caption is closer to a text query than any picture is (the modality gap): ranked by raw cosine,
"a cow" lists captions before the cow picture. Per (query kind, result kind) the model records the
mean and spread of the cosine between *unrelated* training pairs; a mixed list is ordered by how far
each result stands above that background (a z-score). Each result still shows its cosine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Calibration:
    """(query kind, result kind) -> (mean, std) of unrelated pairs' cosine."""

    background: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)

    def covers(self, query_kind: str | None, result_kinds: list[str]) -> bool:
        return query_kind is not None and all((query_kind, kind) in self.background for kind in result_kinds)

    def standardise(self, query_kind: str, result_kind: str, score: float) -> float:
        mean, std = self.background[(query_kind, result_kind)]
        return (score - mean) / std

    def to_json(self) -> str:
        return json.dumps({f"{q}->{r}": [round(m, 6), round(s, 6)] for (q, r), (m, s) in self.background.items()})

    @classmethod
    def from_json(cls, text: str | None) -> "Calibration":
        if not text:
            return cls()
        pairs = json.loads(text)
        return cls({tuple(key.split("->", 1)): (float(m), float(s)) for key, (m, s) in pairs.items()})  # type: ignore[misc]


def fit_background(scores: np.ndarray, related: np.ndarray) -> tuple[float, float]:
    """Mean and std of the cosines of the unrelated (query, candidate) pairs."""
    values = scores[~related & np.isfinite(scores)]
    return float(values.mean()), float(max(values.std(), 1e-6))
