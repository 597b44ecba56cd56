"""Media-conditional preference: the same answer under the original media (chosen position) is
preferred to it under altered media (rejected position). Declares "rejected_media", so the trainer
scores the chosen answer against the record's `rejected_images` / `rejected_videos` (or a perturbation).

    r_w = log pi(y | m, x)  - log pi_ref(y | m, x)
    r_l = log pi(y | m~, x) - log pi_ref(y | m~, x)
    L   = -log s(beta (r_w - r_l)) + anchor_weight * (-log s(beta r_w - anchor_delta))

Sources: research/video.md A.4 (mDPO `mdpo_trainer.py`) and A.5 (VDPO, a design proposal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch.nn.functional as F

from .base import Loss, register
from .common import log_ratios
from .trl_pair import rewarded


@dataclass(frozen=True)
class _MediaConditional(Loss):
    beta: float = 0.1
    anchor_weight: float = 1.0
    anchor_delta: float = 0.0

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        if policy_rejected.dim() == 2:
            raise NotImplementedError(
                f"loss {self.name!r}: several altered media per example (rejected of shape [B, K]) need an "
                "aggregation over K, which is not implemented yet; give one altered media per example")
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
