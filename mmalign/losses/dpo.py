"""Sigmoid DPO (Rafailov et al. 2023) with label smoothing (conservative DPO)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch.nn.functional as F

from .base import Loss, LossOutput, register
from .common import log_ratios


@register
@dataclass(frozen=True)
class SigmoidDPO(Loss):
    """DPO: L = -(1-eps) log sigma(beta*Delta) - eps log sigma(-beta*Delta), Delta = r_w - r_l.

    eps = label_smoothing (0: plain DPO; > 0: conservative DPO, ericmitchell.ai/cdpo.pdf).
    Rewards are beta * r, detached, as in the DPO reference code.
    """

    name: ClassVar[str] = "sigmoid"
    needs: ClassVar[frozenset[str]] = frozenset({"reference"})
    beta: float = 0.1
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.label_smoothing < 0.5:
            raise ValueError(f"{self.name}: label_smoothing must be in [0, 0.5), got {self.label_smoothing}")

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)  # [B] each
        logits = self.beta * (r_w - r_l)  # [B]
        eps = self.label_smoothing
        losses = -(1 - eps) * F.logsigmoid(logits) - eps * F.logsigmoid(-logits)
        return LossOutput(losses, (self.beta * r_w).detach(), (self.beta * r_l).detach())


