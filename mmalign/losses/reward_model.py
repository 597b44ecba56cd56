"""Bradley-Terry reward-model losses (Secrets of RLHF II, Wang et al. 2024; docs/research/objectives.md,
section 10).

Reward scores r_c = r(x, y_c), r_r = r(x, y_r) arrive in the policy_chosen / policy_rejected positions;
there is no reference model. Rewards reported are the scores themselves.

    bt:         L = -(1-a) log s(r_c - r_r) - a log s(r_r - r_c)                 (a = label_smoothing)
    bt_margin:  L = -(1-a_i) log s(d - m u) - a_i log s(-(d - m u)),  d = r_c - r_r, u = preference strength
                with a_i = label_smoothing on pairs whose strength is < 0 (the paper's "soft label + margin")
                and 0 elsewhere, unless smooth_negative_only=False (then every pair).

Both take the SimCSE-style contrastive term's hyper-parameters (contrastive.py): contrastive_weight (0 = off),
contrastive_temperature, contrastive_dropout. The loss itself sees only scores; the trainer computes the term
from the reward model's last-token representations and adds weight * term to each pair's loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from .base import Loss, LossOutput, register
from .common import check_pair, require
from .contrastive import check_contrastive


def _smoothed(z: torch.Tensor, eps) -> torch.Tensor:
    return -(1 - eps) * F.logsigmoid(z) - eps * F.logsigmoid(-z)


def _check_smoothing(name: str, eps: float) -> None:
    if not 0.0 <= eps < 0.5:
        raise ValueError(f"{name}: label_smoothing must be in [0, 0.5), got {eps}")


@register
@dataclass(frozen=True)
class BradleyTerry(Loss):
    """Bradley-Terry ranking loss with optional label smoothing. MOSS-RLHF adds 1e-5 inside the log; we
    use log-sigmoid instead, which is exact and finite."""

    name: ClassVar[str] = "bt"
    needs: ClassVar[frozenset[str]] = frozenset()
    takes_reward_scores: ClassVar[bool] = True
    label_smoothing: float = 0.0
    contrastive_weight: float = 0.0
    contrastive_temperature: float = 0.05
    contrastive_dropout: float = 0.1

    def __post_init__(self) -> None:
        _check_smoothing(self.name, self.label_smoothing)
        check_contrastive(self.name, self.contrastive_weight, self.contrastive_temperature, self.contrastive_dropout)

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        check_pair(self.name, policy_chosen, policy_rejected)
        r_c, r_r = policy_chosen.float(), policy_rejected.float()
        losses = _smoothed(r_c - r_r, self.label_smoothing)
        return LossOutput(losses, r_c.detach(), r_r.detach(), {"accuracy": (r_c > r_r).float().mean()})


@register
@dataclass(frozen=True)
class BradleyTerryMargin(Loss):
    """Bradley-Terry with the ensemble preference strength as an adaptive margin (extra
    `preference_strength`, from the `preference_strength` data transform). margin_scale multiplies it."""

    name: ClassVar[str] = "bt_margin"
    needs: ClassVar[frozenset[str]] = frozenset({"strength"})
    takes_reward_scores: ClassVar[bool] = True
    margin_scale: float = 1.0
    label_smoothing: float = 0.0
    smooth_negative_only: bool = True
    contrastive_weight: float = 0.0
    contrastive_temperature: float = 0.05
    contrastive_dropout: float = 0.1

    def __post_init__(self) -> None:
        _check_smoothing(self.name, self.label_smoothing)
        check_contrastive(self.name, self.contrastive_weight, self.contrastive_temperature, self.contrastive_dropout)

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        check_pair(self.name, policy_chosen, policy_rejected)
        r_c, r_r = policy_chosen.float(), policy_rejected.float()
        (u,) = require(self.name, r_c, extras, "preference_strength")
        if self.smooth_negative_only:
            eps = torch.where(u < 0, self.label_smoothing, 0.0)
        else:
            eps = torch.full_like(u, self.label_smoothing)
        losses = _smoothed(r_c - r_r - self.margin_scale * u, eps)
        return LossOutput(losses, r_c.detach(), r_r.detach(), {"accuracy": (r_c > r_r).float().mean()})
