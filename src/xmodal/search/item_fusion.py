"""Turning hits on parts into hits on items with parts, by late or early fusion (see xmodal.fusion).

Late: every part the per-modality searches found brings its item in; the item is then scored from all
its parts of the target modalities (exact cosines, calibrated per result kind when the model can), and
remembers its best part. Early: items come from the fused-vector index; with weights other than the
stored ones (equal per modality) the candidates are re-scored with the weighted mean of their parts.
Single-file items pass through either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from xmodal.encoders.calibration import Calibration
from xmodal.fusion import LateCombine, fused_vector, late_score, weight_of
from xmodal.store import Item, Store

Keyed = tuple[float, float, int]  # (ranking key, score shown, id)


@dataclass
class ItemFusion:
    store: Store
    calibration: Calibration
    query_kind: str | None
    calibrated: bool
    weights: Mapping[str, float] | None = None
    combine: LateCombine = "sum"
    part_scores: dict[int, float] = field(default_factory=dict)  # part id -> cosine with the query
    best_part: dict[int, int] = field(default_factory=dict)  # item id -> its best-matching part's id

    def late(self, query: np.ndarray, keyed: Sequence[Keyed], targets: Sequence[str], exclude: set[int]) -> list[Keyed]:
        rows = self.store.get([item_id for _, _, item_id in keyed])
        singles = [row for row in keyed if row[2] in rows and rows[row[2]].parent_id is None]
        parents = list(dict.fromkeys(rows[i].parent_id for _, _, i in keyed if i in rows and rows[i].parent_id))
        parents = [parent for parent in parents if parent not in exclude]
        fused = []
        for parent, parts in self.store.parts_of(parents).items():
            scored = self._score_parts(query, [part for part in parts if part.modality in targets])
            if scored:
                fused.append(self._late_item(parent, scored))
        return _sorted(singles + fused)

    def early(self, query: np.ndarray, items: Sequence[tuple[float, int]], singles: Sequence[Keyed]) -> list[Keyed]:
        """Items from the fused index (re-scored with the query's weights when it has some) and the
        single-file items of the per-modality searches, by cosine."""
        found = [(score, score, item_id) for score, item_id in items]
        if self.weights:
            parts_of = self.store.parts_of([item_id for _, item_id in items])
            found = []
            for item_id, parts in parts_of.items():
                if parts:
                    vectors = [self.store.vectors(part.modality).vector(part.id) for part in parts]
                    score = float(fused_vector(vectors, [p.modality for p in parts], self.weights) @ query)
                    found.append((score, score, item_id))
        for _, _, item_id in found:
            self._best_of_early(query, item_id)
        rows = self.store.get([item_id for _, _, item_id in singles])
        alone = [(score, score, i) for _, score, i in singles if i in rows and rows[i].parent_id is None]
        return _sorted(found + alone)

    def _best_of_early(self, query: np.ndarray, item_id: int) -> None:
        parts = self.store.parts_of([item_id])[item_id]
        scored = self._score_parts(query, parts)
        if scored:
            self.best_part[item_id] = max(scored, key=lambda row: row[0])[2].id

    def _score_parts(self, query: np.ndarray, parts: Sequence[Item]) -> list[tuple[float, float, Item]]:
        """(key, cosine, part) for each part, the key calibrated for its kind when the ranking is."""
        scored = []
        for part in parts:
            score = float(self.store.vectors(part.modality).vector(part.id) @ query)
            self.part_scores[part.id] = score
            key = score
            if self.calibrated and self.calibration.covers(self.query_kind, [part.modality]):
                key = self.calibration.standardise(self.query_kind, part.modality, score)  # type: ignore[arg-type]
            scored.append((key, score, part))
        return scored

    def _late_item(self, parent: int, scored: list[tuple[float, float, Item]]) -> Keyed:
        best_keys: dict[str, tuple[float, float]] = {}
        for key, score, part in scored:
            if part.modality not in best_keys or key > best_keys[part.modality][0]:
                best_keys[part.modality] = (key, score)
        keys = {modality: key for modality, (key, _) in best_keys.items()}
        scores = {modality: score for modality, (_, score) in best_keys.items()}
        weighted = [(weight_of(part.modality, self.weights) * key, part.id) for key, _, part in scored]
        self.best_part[parent] = max(weighted)[1]
        return late_score(keys, self.weights, self.combine), late_score(scores, self.weights, self.combine), parent


def _sorted(rows: list[Keyed]) -> list[Keyed]:
    return sorted(rows, key=lambda row: (-row[0], row[2]))
