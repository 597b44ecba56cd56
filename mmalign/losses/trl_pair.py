"""The per-pair members of TRL's `DPOTrainer` loss catalogue, TRL-HEAD numerics and hyper-parameter names.

Each is a function of the log-ratios r_w = log pi(y_w) - log pi_ref(y_w) and r_l (likewise), Delta = r_w - r_l.
Rewards are beta * r, detached, as TRL logs them. Sources: docs/research/objectives.md section 1.3
(TRL `trl/trainer/dpo_trainer.py::_compute_loss` at f2cd5771).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from .base import Loss, LossOutput, register
from .common import log_ratios, per_token


def rewarded(losses: torch.Tensor, beta: float, r_w: torch.Tensor, r_l: torch.Tensor, **metrics) -> LossOutput:
    return LossOutput(losses, (beta * r_w).detach(), (beta * r_l).detach(),
                      {k: v.detach() for k, v in metrics.items()})


@register
@dataclass(frozen=True)
class RobustDPO(Loss):
    """Robust DPO (Chowdhury et al. 2024): unbiased under label noise of rate eps in [0, 0.5).

    L = [-(1-eps) log sigma(beta*Delta) + eps log sigma(-beta*Delta)] / (1 - 2 eps).
    """

    name: ClassVar[str] = "robust"
    needs: ClassVar[frozenset[str]] = frozenset({"reference"})
    beta: float = 0.1
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.label_smoothing < 0.5:
            raise ValueError(f"robust: label_smoothing must be in [0, 0.5), got {self.label_smoothing}")

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        z = self.beta * (r_w - r_l)  # [B]
        eps = self.label_smoothing
        losses = (-(1 - eps) * F.logsigmoid(z) + eps * F.logsigmoid(-z)) / (1 - 2 * eps)
        return rewarded(losses, self.beta, r_w, r_l)


@register
@dataclass(frozen=True)
class HingeDPO(Loss):
    """SLiC / RSO hinge: L = relu(1 - beta*Delta); beta is the inverse margin."""

    name: ClassVar[str] = "hinge"
    needs: ClassVar[frozenset[str]] = frozenset({"reference"})
    beta: float = 0.1

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        return rewarded(torch.relu(1 - self.beta * (r_w - r_l)), self.beta, r_w, r_l)


@register
@dataclass(frozen=True)
class IPO(Loss):
    """IPO (Azar et al. 2023, Eq. 17): L = (Delta_bar - 1/(2 beta))^2, beta = tau.

    With `length_normalize` (default, TRL-HEAD and the IPO authors) Delta_bar = r_w/|y_w| - r_l/|y_l|
    when the trainer supplies lengths; without lengths (or with length_normalize=False) Delta_bar = Delta
    on the summed log-probs, as the original DPO repository does.
    """

    name: ClassVar[str] = "ipo"
    needs: ClassVar[frozenset[str]] = frozenset({"reference", "lengths"})
    beta: float = 0.1
    length_normalize: bool = True

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        if self.length_normalize:
            h = per_token(r_w, extras.get("chosen_lengths")) - per_token(r_l, extras.get("rejected_lengths"))
        else:
            h = r_w - r_l
        return rewarded((h - 1 / (2 * self.beta)) ** 2, self.beta, r_w, r_l)


@register
@dataclass(frozen=True)
class ExoPair(Loss):
    """EXO (Ji et al. 2024, Eq. 16), pairwise: KL(q || p_eps) with q_w = sigma(beta*Delta), q_l = sigma(-beta*Delta).

    L = q_w (log q_w - log(1-eps)) + q_l (log q_l - log eps). eps = label_smoothing must be in (0, 1):
    TRL-HEAD raises for 0 (TRL-0.27 silently used 1e-3), so we raise too; default 1e-3 as TRL recommends.
    """

    name: ClassVar[str] = "exo_pair"
    needs: ClassVar[frozenset[str]] = frozenset({"reference"})
    beta: float = 0.1
    label_smoothing: float = 1e-3

    def __post_init__(self) -> None:
        if not 0.0 < self.label_smoothing < 1.0:
            raise ValueError(f"exo_pair: label_smoothing must be in (0, 1) (EXO is undefined at 0; "
                             f"1e-3 is recommended), got {self.label_smoothing}")

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        z = self.beta * (r_w - r_l)  # [B]
        eps = self.label_smoothing
        log_qw, log_ql = F.logsigmoid(z), F.logsigmoid(-z)
        losses = log_qw.exp() * (log_qw - math.log(1 - eps)) + log_ql.exp() * (log_ql - math.log(eps))
        return rewarded(losses, self.beta, r_w, r_l)


@register
@dataclass(frozen=True)
class NCAPair(Loss):
    """NCA (Chen et al. 2024), pairwise: L = -log s(beta r_w) - 1/2 log s(-beta r_w) - 1/2 log s(-beta r_l)."""

    name: ClassVar[str] = "nca_pair"
    needs: ClassVar[frozenset[str]] = frozenset({"reference"})
    beta: float = 0.1

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        zw, zl = self.beta * r_w, self.beta * r_l
        losses = -F.logsigmoid(zw) - 0.5 * F.logsigmoid(-zw) - 0.5 * F.logsigmoid(-zl)
        return rewarded(losses, self.beta, r_w, r_l)


@register
@dataclass(frozen=True)
class BCOPair(Loss):
    """BCO (Jung et al. 2024), pairwise, TRL-HEAD form: L = -log s(beta r_w) - log s(-beta r_l).

    TRL-0.27 subtracted a running mean delta of the rewards; HEAD dropped it, and so do we (it would
    couple batches and break gradient-accumulation invariance).
    """

    name: ClassVar[str] = "bco_pair"
    needs: ClassVar[frozenset[str]] = frozenset({"reference"})
    beta: float = 0.1

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        losses = -F.logsigmoid(self.beta * r_w) - F.logsigmoid(-self.beta * r_l)
        return rewarded(losses, self.beta, r_w, r_l)


@register
@dataclass(frozen=True)
class SPPOHard(Loss):
    """SPPO with hard labels (P(y_w > y_l) = 1): L = (r_w - 1/(2 beta))^2 + (r_l + 1/(2 beta))^2."""

    name: ClassVar[str] = "sppo_hard"
    needs: ClassVar[frozenset[str]] = frozenset({"reference"})
    beta: float = 0.1

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        target = 0.5 / self.beta
        return rewarded((r_w - target) ** 2 + (r_l + target) ** 2, self.beta, r_w, r_l)


@register
@dataclass(frozen=True)
class APOZero(Loss):
    """APO-zero (D'Oosterlinck et al. 2024, Eq. 7): L = (1 - s(beta r_w)) + s(beta r_l).

    For data whose chosen answers beat the model's own: raise chosen, lower rejected likelihood.
    """

    name: ClassVar[str] = "apo_zero"
    needs: ClassVar[frozenset[str]] = frozenset({"reference"})
    beta: float = 0.1

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        losses = (1 - torch.sigmoid(self.beta * r_w)) + torch.sigmoid(self.beta * r_l)
        return rewarded(losses, self.beta, r_w, r_l)


@register
@dataclass(frozen=True)
class APODown(Loss):
    """APO-down (Eq. 8): L = s(beta r_w) + (1 - s(beta Delta)).

    For a model already better than the chosen answers: both likelihoods go down, the rejected faster.
    """

    name: ClassVar[str] = "apo_down"
    needs: ClassVar[frozenset[str]] = frozenset({"reference"})
    beta: float = 0.1

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        losses = torch.sigmoid(self.beta * r_w) + (1 - torch.sigmoid(self.beta * (r_w - r_l)))
        return rewarded(losses, self.beta, r_w, r_l)


@register
@dataclass(frozen=True)
class DiscoPOP(Loss):
    """DiscoPOP / LRML (Chan Lu et al. 2024, Eq. 5): z = beta*Delta, m = s(z / tau),
    L = (1 - m)(-log s(z)) + m exp(-z). Not convex, and not monotone near z = 0 for small tau.
    """

    name: ClassVar[str] = "discopop"
    needs: ClassVar[frozenset[str]] = frozenset({"reference"})
    beta: float = 0.1
    discopop_tau: float = 0.05

    def __post_init__(self) -> None:
        if self.discopop_tau <= 0:
            raise ValueError(f"discopop: discopop_tau must be > 0, got {self.discopop_tau}")

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        z = self.beta * (r_w - r_l)  # [B]
        m = torch.sigmoid(z / self.discopop_tau)
        losses = (1 - m) * -F.logsigmoid(z) + m * torch.exp(-z)
        return rewarded(losses, self.beta, r_w, r_l)


@register
@dataclass(frozen=True)
class SigmoidNorm(Loss):
    """TRL-HEAD `sigmoid_norm` (SimPO-style length normalisation, reference kept):
    L = -log s(beta (r_w/|y_w| - r_l/|y_l|)); without lengths it is plain sigmoid DPO.
    """

    name: ClassVar[str] = "sigmoid_norm"
    needs: ClassVar[frozenset[str]] = frozenset({"reference", "lengths"})
    beta: float = 0.1

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        h = per_token(r_w, extras.get("chosen_lengths")) - per_token(r_l, extras.get("rejected_lengths"))
        return rewarded(-F.logsigmoid(self.beta * h), self.beta, r_w, r_l)
