"""AOT: distributional preference alignment via optimal transport (Melnyk et al. 2024), TRL-HEAD numerics.

Both variants sort over the batch, so one example's loss depends on the others: they declare "batch"
(gradient accumulation over micro-batches is not the same objective as one large batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from .base import Loss, register
from .common import check_pair, log_ratios
from .trl_pair import rewarded


def smoothed_sigmoid(z: torch.Tensor, eps: float) -> torch.Tensor:
    return -(1 - eps) * F.logsigmoid(z) - eps * F.logsigmoid(-z)


@dataclass(frozen=True)
class _AOTBase(Loss):
    beta: float = 0.1
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.label_smoothing < 0.5:
            raise ValueError(f"{self.name}: label_smoothing must be in [0, 0.5), got {self.label_smoothing}")


@register
@dataclass(frozen=True)
class AOT(_AOTBase):
    """AOT (paired): d = sort_B(log pi(y_w) - log pi(y_l)) - sort_B(log pi_ref(y_w) - log pi_ref(y_l)),
    L_i = -(1-eps) log s(beta d_i) - eps log s(-beta d_i). Losses are in sorted order, not example order.
    """

    name: ClassVar[str] = "aot"
    needs: ClassVar[frozenset[str]] = frozenset({"reference", "batch"})

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        check_pair(self.name, policy_chosen, policy_rejected)
        pi = policy_chosen.float() - policy_rejected.float()  # [B]
        ref = torch.zeros_like(pi) if ref_chosen is None else ref_chosen.float() - ref_rejected.float()
        d = torch.sort(pi, dim=0).values - torch.sort(ref, dim=0).values  # [B], sorted
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        return rewarded(smoothed_sigmoid(self.beta * d, self.label_smoothing), self.beta, r_w, r_l)


@register
@dataclass(frozen=True)
class AOTUnpaired(_AOTBase):
    """AOT (unpaired; `aot_pair` in TRL <= 0.27): d = sort_B(r_w) - sort_B(r_l), same loss as `aot`."""

    name: ClassVar[str] = "aot_unpaired"
    needs: ClassVar[frozenset[str]] = frozenset({"reference", "batch"})

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        d = torch.sort(r_w, dim=0).values - torch.sort(r_l, dim=0).values  # [B], sorted
        return rewarded(smoothed_sigmoid(self.beta * d, self.label_smoothing), self.beta, r_w, r_l)
