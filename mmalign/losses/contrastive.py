"""A SimCSE-style contrastive term for reward models (our reading of Secrets of RLHF II's contrastive
auxiliary loss; docs/research/objectives.md section 10 and docs/reward-models.md).

Two views a, b [N, H] of the same N response representations (two dropout masks on each response's
last-token hidden state): view i of a and view i of b are positives, every other response of the batch a
negative. With cosine similarities s_ij = cos(a_i, b_j) and temperature t, SimCSE's InfoNCE per anchor i:

    l_i = -log( exp(s_ii / t) / sum_j exp(s_ij / t) )

The reward-model losses (`bt`, `bt_margin`) carry the term's hyper-parameters (contrastive_weight,
contrastive_temperature, contrastive_dropout), so that `loss: {name: bt, contrastive_weight: 0.1}` configures the term, which the trainer adds to the
ranking loss as L = L_rank + weight * mean_i l_i (weight 0: not computed at all).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def simcse_infonce(view_a: torch.Tensor, view_b: torch.Tensor, temperature: float) -> torch.Tensor:
    """Per-anchor InfoNCE losses [N] of two views [N, H] (row i of each is the same response)."""
    if view_a.shape != view_b.shape or view_a.dim() != 2:
        raise ValueError(f"simcse_infonce: two [N, H] views of the same shape, got {tuple(view_a.shape)} and "
                         f"{tuple(view_b.shape)}")
    if temperature <= 0:
        raise ValueError(f"simcse_infonce: temperature must be > 0, got {temperature}")
    a = F.normalize(view_a.float(), dim=-1)
    b = F.normalize(view_b.float(), dim=-1)
    logits = a @ b.T / temperature  # [N, N]
    return F.cross_entropy(logits, torch.arange(len(a), device=a.device), reduction="none")


def dropout_views(representations: torch.Tensor, p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Two independent dropout views of [N, H] representations (always in training mode: the views are the
    augmentation)."""
    flat = representations.float()
    return F.dropout(flat, p, training=True), F.dropout(flat, p, training=True)


def check_contrastive(name: str, weight: float, temperature: float, dropout: float) -> None:
    """A ValueError naming the loss and the key for a weight, temperature or dropout out of range."""
    if weight < 0:
        raise ValueError(f"{name}: contrastive_weight must be >= 0, got {weight}")
    if temperature <= 0:
        raise ValueError(f"{name}: contrastive_temperature must be > 0, got {temperature}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"{name}: contrastive_dropout must be in [0, 1), got {dropout}")
