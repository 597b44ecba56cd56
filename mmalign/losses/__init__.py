"""Preference objectives as small callables over per-sequence log-probabilities.

    from mmalign.losses import build_loss
    loss = build_loss("sigmoid", beta=0.1)
    out = loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected)

The paper index (formula, defaults, needs, record fields) is docs/objectives.md.
"""

from . import aot, dpo, dpo_variants, media, mix, reward_model, trl_pair  # noqa: F401  (register)
from .base import (
    NEED_EXTRAS,
    Loss,
    LossOutput,
    available_losses,
    build_loss,
    build_loss_from_config,
    hyperparameters,
    register,
)

__all__ = [
    "NEED_EXTRAS",
    "Loss",
    "LossOutput",
    "available_losses",
    "build_loss",
    "build_loss_from_config",
    "hyperparameters",
    "register",
]
