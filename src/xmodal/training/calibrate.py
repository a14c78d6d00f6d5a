"""Fit the model's cross-kind calibration (xmodal.encoders.calibration) on embedded training items."""

from __future__ import annotations

import numpy as np

from xmodal.encoders.calibration import Calibration, fit_background
from xmodal.training.evaluate import Embeddings, EvalItems, relevance


def fit_calibration(items: EvalItems, embeddings: Embeddings) -> Calibration:
    """Every (query kind, result kind) both embedded: the background of unrelated pairs' cosine."""
    background = {}
    for source, queries in embeddings.items():
        for target, candidates in embeddings.items():
            q_ok, c_ok = ~np.isnan(queries).any(axis=1), ~np.isnan(candidates).any(axis=1)
            if q_ok.sum() < 2 or c_ok.sum() < 2:
                continue
            groups_q = [g for g, ok in zip(items.groups[source], q_ok) if ok]
            groups_c = [g for g, ok in zip(items.groups[target], c_ok) if ok]
            scores = queries[q_ok] @ candidates[c_ok].T
            background[(source, target)] = fit_background(scores, relevance(groups_q, groups_c))
    return Calibration(background)
