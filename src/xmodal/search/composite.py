"""A full query: weighted parts of any modality, target modalities, filters, paging and a mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from xmodal.errors import Invalid
from xmodal.fusion import FusionMode, LateCombine
from xmodal.search.results import SearchMode
from xmodal.store.filters import Filters


class QueryError(Invalid):
    """A query that cannot be answered as asked (the message says why)."""


@dataclass(frozen=True)
class Part:
    """One input and its weight: a text, a stored item (id or external id), or decoded `media` of a
    `modality` (an image, a sound)."""

    text: str | None = None
    item: int | str | None = None
    media: object = None
    modality: str | None = None
    weight: float = 1.0


@dataclass
class Query:
    parts: Sequence[Part]
    modalities: Sequence[str] | None = None
    k: int = 10
    offset: int = 0
    min_score: float | None = None
    filters: Filters | None = None
    mode: SearchMode = "vector"
    fusion: FusionMode = "late"  # how items with parts are scored (xmodal.fusion)
    weights: dict[str, float] | None = None  # per modality, for fusion; one for any not named
    combine: LateCombine = "sum"  # late fusion: weighted mean of the parts' scores, or the best weighted one

    def keyword_texts(self) -> tuple[list[str], list[str]]:
        """Texts to match (positive weights) and to exclude (negative weights) in keyword search."""
        texts = [part for part in self.parts if part.text is not None]
        return [part.text for part in texts if part.weight > 0], [part.text for part in texts if part.weight < 0]  # type: ignore[misc]


def combine(vectors: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """The unit-norm weighted sum of unit vectors: 'this photo, minus night' is photo - w * night."""
    if not any(weight > 0 for weight in weights):
        raise QueryError("a composite query needs at least one part with a positive weight")
    total = np.zeros_like(np.asarray(vectors[0], dtype=np.float32))
    for vector, weight in zip(vectors, weights):
        total += np.float32(weight) * np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(total))
    if norm < 1e-6:
        raise QueryError("the weighted parts cancel each other out: nothing is left to search for")
    return total / norm


def reciprocal_rank_fusion(*rankings: Sequence[tuple[float, int]], constant: int = 60) -> list[tuple[float, int]]:
    """Fuse ranked (score, id) lists: each list adds 1 / (constant + rank) to an item; best first."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (_, item_id) in enumerate(ranking, start=1):
            fused[item_id] = fused.get(item_id, 0.0) + 1.0 / (constant + rank)
    return sorted(((score, item_id) for item_id, score in fused.items()), key=lambda pair: (-pair[0], pair[1]))
