"""DPO variants that change the target, the margin, the temperatures or what the log-probs cover.

Sources: docs/research/objectives.md sections 2 (SPPO), 3 (DOVE), 4 (F-DPO) and 7 (Flex-DPO).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch.nn.functional as F

from .base import Loss, LossOutput, register
from .common import log_ratios, require
from .dpo import SigmoidDPO
from .trl_pair import rewarded


@register
@dataclass(frozen=True)
class SPPO(Loss):
    """SPPO (Wu et al. 2024), soft labels, as `uclaml/SPPO` `sppo_loss` (loss_type="sppo"):

    L = 1/2 [(r_w - eta (P_w - 1/2))^2 + (r_l - eta (P_l - 1/2))^2],  eta = 1/beta,
    P_w, P_l = estimated win rates of y_w and y_l against the current policy (extras chosen_win_prob,
    rejected_win_prob). beta defaults to 0.001 (eta = 1000), the SPPO pipeline's value; the reference
    should be the policy at the start of the iteration.
    """

    name: ClassVar[str] = "sppo"
    needs: ClassVar[frozenset[str]] = frozenset({"reference", "win_probs"})
    beta: float = 0.001

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        p_w, p_l = require(self.name, r_w, extras, "chosen_win_prob", "rejected_win_prob")
        eta = 1.0 / self.beta
        losses = 0.5 * ((r_w - eta * (p_w - 0.5)) ** 2 + (r_l - eta * (p_l - 0.5)) ** 2)
        return rewarded(losses, self.beta, r_w, r_l)


@register
@dataclass(frozen=True)
class DOVE(SigmoidDPO):
    """DOVE / JPO (Bansal et al.): sigmoid DPO on joint log-probs log pi(I, R) = log pi(I) + log pi(R | I).

    Same formula as `sigmoid`; the "joint" need tells the trainer to include the prompt tokens (and
    the record's `rejected_prompt` for the rejected side). With equal prompts it reduces to DPO.
    """

    name: ClassVar[str] = "dove"
    needs: ClassVar[frozenset[str]] = frozenset({"reference", "joint"})


@register
@dataclass(frozen=True)
class FactualDPO(Loss):
    """F-DPO (Chaduvula et al. 2026): L = -log s(beta (Delta - fact_lambda (h_l - h_w))), h = 1 hallucinated.

    After the `fdpo_flip` transform h_l - h_w is 0 or 1: a factual-over-hallucinated pair must win by
    an extra margin fact_lambda; equal factuality gives plain DPO. The paper sweeps lambda in
    {0, 2, ..., 100} without a single best value; the default 10 is our choice.
    """

    name: ClassVar[str] = "fdpo"
    needs: ClassVar[frozenset[str]] = frozenset({"reference", "factuality"})
    beta: float = 0.1
    fact_lambda: float = 10.0

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        h_w, h_l = require(self.name, r_w, extras, "chosen_hallucinated", "rejected_hallucinated")
        dh = h_l - h_w  # [B], 0 or 1 after flipping
        losses = -F.logsigmoid(self.beta * (r_w - r_l - self.fact_lambda * dh))
        return rewarded(losses, self.beta, r_w, r_l, factuality_gap=dh.mean())


@register
@dataclass(frozen=True)
class FlexDPO(Loss):
    """Flex-DPO (Yan et al., "3D-properties of DPO"): L = -log s(beta_chosen r_w - beta_rejected r_l).

    A smaller beta_rejected damps the fall of the rejected likelihood. Defaults 0.1 / 0.08 are the
    reviewers' reported best point [secondary source]; the paper's exact schedule is unconfirmed.
    """

    name: ClassVar[str] = "flex_dpo"
    needs: ClassVar[frozenset[str]] = frozenset({"reference"})
    beta_chosen: float = 0.1
    beta_rejected: float = 0.08

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        r_w, r_l = log_ratios(self.name, policy_chosen, policy_rejected, ref_chosen, ref_rejected)
        zw, zl = self.beta_chosen * r_w, self.beta_rejected * r_l
        return LossOutput(-F.logsigmoid(zw - zl), zw.detach(), zl.detach())
