"""Symmetric InfoNCE with a learnable temperature (as CLIP / open_clip's `ClipLoss`), aware of duplicates.

open_clip's `ClipLoss` takes the diagonal as the only positive. Captioned clip art is full of
twins ("A flower." on six stamps), so here every candidate of the query's group is a positive
and the target is spread evenly over them; with distinct groups this is exactly `ClipLoss`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class ContrastiveLoss(nn.Module):
    def __init__(self, temperature: float = 0.07, max_scale: float = 100.0, learnable: bool = True) -> None:
        super().__init__()
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / temperature)), requires_grad=learnable)
        self.max_scale = max_scale

    @property
    def temperature(self) -> float:
        return float(1.0 / self.scale().detach())

    def scale(self) -> Tensor:
        return self.logit_scale.exp().clamp(max=self.max_scale)

    def forward(
        self,
        queries: Tensor,
        candidates: Tensor,
        query_groups: Tensor,
        candidate_groups: Tensor,
        symmetric: bool = True,
    ) -> Tensor:
        """Unit-norm [q, d] and [c, d]; groups are integer ids. Mean over both directions when
        `symmetric` (candidates -> queries uses only candidates that have a positive)."""
        logits = self.scale() * queries @ candidates.T
        positives = (query_groups[:, None] == candidate_groups[None, :]).float()
        loss = _soft_cross_entropy(logits, positives)
        if symmetric:
            loss = (loss + _soft_cross_entropy(logits.T, positives.T)) / 2
        return loss


def _soft_cross_entropy(logits: Tensor, positives: Tensor) -> Tensor:
    has_positive = positives.sum(dim=1) > 0
    if not has_positive.any():
        return logits.new_zeros(())
    logits, positives = logits[has_positive], positives[has_positive]
    targets = positives / positives.sum(dim=1, keepdim=True)
    return -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
