"""Media-conditional preference: the same answer under the original media (chosen position) is
preferred to it under altered media (rejected position). Declares "rejected_media", so the trainer
scores the chosen answer against the record's `rejected_images` / `rejected_videos` (or a perturbation).

    r_w = log pi(y | m, x)  - log pi_ref(y | m, x)
    r_l = log pi(y | m~, x) - log pi_ref(y | m~, x)
    L   = -log s(beta (r_w - r_l)) + anchor_weight * (-log s(beta r_w - anchor_delta))

Several altered media per example (rejected `[B, K]`, PaMi-VDPO's candidate set) are aggregated over
K with h_k = beta (r_w - r_l,k) (`aggregation`, our choices; the paper's is unconfirmed):

    select    -log s(h_k*)            k* = extras["rejected_select"] [B] (the selector's pick)
    max       -log s(min_k h_k)       the hardest candidate
    mean      mean_k -log s(h_k)
    lse       -log s(-tau (log sum_k exp(-h_k / tau) - log K))   soft-min; tau -> 0: max, tau -> inf: mean h
    weighted  sum_k w_k -log s(h_k)   w = extras["rejected_weights"] [B, K] normalised per row (uniform if absent)

Optional extras["rejected_mask"] [B, K] (bool) leaves candidates out of every aggregation (a row with no
candidate left uses all of them).

Sources: docs/research/video.md A.4 (mDPO `mdpo_trainer.py`) and A.5 (VDPO, a design proposal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from .base import Loss, register
from .common import check_pair, log_ratios
from .trl_pair import rewarded

AGGREGATIONS = ("select", "max", "mean", "lse", "weighted")


def aggregate(h: torch.Tensor, aggregation: str, temperature: float = 1.0, name: str = "vdpo",
              **extras) -> torch.Tensor:
    """Per-example conditional loss [B] from margins h [B, K] (see the module docstring)."""
    mask = extras.get("rejected_mask")
    mask = torch.ones_like(h, dtype=torch.bool) if mask is None else torch.as_tensor(mask, device=h.device).bool()
    mask = mask | ~mask.any(1, keepdim=True)  # a row with nothing left keeps every candidate
    if aggregation == "select":
        pick = extras.get("rejected_select")
        if pick is None:
            raise ValueError(f"loss {name!r}: aggregation 'select' over [B, K] candidates needs the extra "
                             "rejected_select ([B] candidate index, from the pair sampler)")
        pick = torch.as_tensor(pick, device=h.device).long()
        return -F.logsigmoid(h.gather(1, pick[:, None]).squeeze(1))
    if aggregation == "max":
        return -F.logsigmoid(h.masked_fill(~mask, math.inf).amin(1))
    if aggregation == "mean":
        per = -F.logsigmoid(h) * mask
        return per.sum(1) / mask.sum(1)
    if aggregation == "lse":
        t = temperature
        lse = torch.logsumexp((-h / t).masked_fill(~mask, -math.inf), dim=1)
        return -F.logsigmoid(-t * (lse - mask.sum(1).float().log()))
    w = extras.get("rejected_weights")
    w = torch.ones_like(h) if w is None else torch.as_tensor(w, device=h.device).float()
    w = w * mask
    w = torch.where(w.sum(1, keepdim=True) > 0, w, mask.float())
    return (-F.logsigmoid(h) * w).sum(1) / w.sum(1)



@dataclass(frozen=True)
class _MediaConditional(Loss):
    takes_rejection_sets: ClassVar[bool] = True
    beta: float = 0.1
    anchor_weight: float = 1.0
    anchor_delta: float = 0.0
    aggregation: str = "select"
    temperature: float = 1.0

    def __post_init__(self):
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"loss {self.name!r}: unknown aggregation {self.aggregation!r}; valid: "
                             f"{', '.join(AGGREGATIONS)}")
        if self.temperature <= 0:
            raise ValueError(f"loss {self.name!r}: temperature must be > 0, got {self.temperature}")

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        if policy_rejected.dim() == 2:
            check_pair(self.name, policy_chosen, policy_rejected[:, 0])
            r_w = policy_chosen.float() - (0.0 if ref_chosen is None else ref_chosen.float())  # [B]
            r_l = policy_rejected.float() - (0.0 if ref_rejected is None else ref_rejected.float())  # [B, K]
            conditional = aggregate(self.beta * (r_w[:, None] - r_l), self.aggregation, self.temperature,
                                    self.name, **extras)  # [B]
        else:
            r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
            conditional = -F.logsigmoid(self.beta * (r_w - r_l))  # [B]
        anchor = -F.logsigmoid(self.beta * r_w - self.anchor_delta)  # [B]
        losses = conditional + self.anchor_weight * anchor
        return rewarded(losses, self.beta, r_w, r_l,
                        conditional_loss=conditional.mean(), anchor_loss=anchor.mean())


@register
@dataclass(frozen=True)
class MDPOImage(_MediaConditional):
    """mDPO (Wang et al. 2024), conditional image preference + anchor (weights 1, delta 0 as in its code).

    mDPO's third term, ordinary DPO on (y_w, y_l) under the original image, needs a third log-prob per
    example and is not part of this loss; train it with `sigmoid` on the answer pairs.
    """

    name: ClassVar[str] = "mdpo_image"
    needs: ClassVar[frozenset[str]] = frozenset({"reference", "rejected_media"})


@register
@dataclass(frozen=True)
class VDPO(_MediaConditional):
    """VDPO (Ding et al., video preference by augmented clips with the answer fixed).

    Single instance. Only the abstract is confirmed ("augmented videos as rejected, responses fixed"),
    so the anchor is off by default (anchor_weight 0); set it to 1 for mDPO's anchor.
    """

    name: ClassVar[str] = "vdpo"
    needs: ClassVar[frozenset[str]] = frozenset({"reference", "rejected_media"})
    anchor_weight: float = 0.0

