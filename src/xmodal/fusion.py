"""Fusing the parts of an item (an image, a caption, a sound) into one score or one vector.

Two ways, chosen per query: `late` combines the scores of an item's parts (each part searched in its
own modality's index), `early` compares the query with one fused vector per item, the weighted mean of
its unit part vectors. Weights are per modality; an item's several parts of one modality share their
modality's weight. Plain numpy: the store (fused vectors), the indexer and the searcher all use it.
"""

from __future__ import annotations

from typing import Literal, Mapping, Sequence

import numpy as np

FusionMode = Literal["late", "early"]
LateCombine = Literal["sum", "max"]
FUSION_MODES: tuple[str, ...] = ("late", "early")


def weight_of(modality: str, weights: Mapping[str, float] | None) -> float:
    """A modality's weight; one when no weights are given or it is not named."""
    return 1.0 if not weights else float(weights.get(modality, 1.0))


def fused_vector(
    vectors: Sequence[np.ndarray], modalities: Sequence[str], weights: Mapping[str, float] | None = None
) -> np.ndarray:
    """The unit-norm weighted mean of unit part vectors (early fusion). Within a modality the parts are
    averaged first, so an item with five photos and one caption is not five sixths photo."""
    if not vectors:
        raise ValueError("an item needs at least one part vector to fuse")
    per_modality: dict[str, list[np.ndarray]] = {}
    for vector, modality in zip(vectors, modalities):
        per_modality.setdefault(modality, []).append(np.asarray(vector, dtype=np.float32))
    total = np.zeros_like(per_modality[modalities[0]][0])
    for modality, group in per_modality.items():
        total += np.float32(weight_of(modality, weights)) * np.mean(group, axis=0)
    norm = float(np.linalg.norm(total))
    if norm < 1e-12:  # opposite parts, or every weight zero: fall back to the plain mean
        total = np.mean([np.asarray(vector, dtype=np.float32) for vector in vectors], axis=0)
        norm = max(float(np.linalg.norm(total)), 1e-12)
    return (total / norm).astype(np.float32)


def late_score(
    scores: Mapping[str, float], weights: Mapping[str, float] | None = None, combine: LateCombine = "sum"
) -> float:
    """An item's score from its best part score per modality (late fusion): the weighted mean over the
    modalities it has (`sum`: items with fewer parts stay comparable), or the best weighted one (`max`)."""
    if not scores:
        raise ValueError("an item needs at least one part score to fuse")
    weighted = {modality: weight_of(modality, weights) for modality in scores}
    if combine == "max":
        return max(weighted[modality] * score for modality, score in scores.items() if weighted[modality] > 0)
    total = sum(weight for weight in weighted.values() if weight > 0)
    return sum(weighted[modality] * score for modality, score in scores.items() if weighted[modality] > 0) / total
