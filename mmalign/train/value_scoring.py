"""Reward-model training (`head: value`): value-head scores take the place of the log-probs.

`ValueForward` scores a batch like `PairForward` (same backends, same batches) but asks the scoring core for
the final hidden state at each answer's last token and passes it through the value head
(`models/value_head.py`): the chosen [B] and rejected [B, K] inputs the loss receives are those scores (the
hidden states ride along as `AnswerLogps.representations` for the optional contrastive term). Only
losses that read their inputs as reward scores (`Loss.takes_reward_scores`: bt, bt_margin) may train
this way; there is no reference model.
"""

from __future__ import annotations

import torch

from ..errors import ConfigError
from ..losses import Loss, available_losses
from ..losses.base import loss_class
from ..models.value_head import ValueModel, freeze_output_head, value_model_of
from .config import TrainConfig
from .pair_loss import AnswerLogps
from .scored_tokens import ScoreRequest
from .scoring_batch import PairLayout, ScoringBatch
from .step import PairForward


class ValueForward(PairForward):
    """PairForward for reward models: per answer, the value head's score instead of the summed log-prob."""

    def pairs(self, model, sb: ScoringBatch, layout: PairLayout) -> AnswerLogps:
        scores = self.scores(model, sb, ScoreRequest(last_hidden=True))
        values = value_model_of(model).values(scores.last_hidden)  # [N]
        hidden = scores.last_hidden  # [N, H]; the contrastive term's representations, chosen first
        representations = torch.cat([hidden[layout.chosen][:, None], hidden[layout.rejected]], 1)
        return AnswerLogps(values[layout.chosen], values[layout.rejected], scores.counts[layout.chosen],
                           scores.counts[layout.rejected], representations)


def reward_losses() -> list[str]:
    return [name for name in available_losses() if loss_class(name).takes_reward_scores]


def check_value_head(cfg: TrainConfig, loss: Loss) -> None:
    """Refuse, at setup, what a reward model cannot train with (a ConfigError naming the key)."""
    if not loss.takes_reward_scores:
        raise ConfigError(f"head: value trains a reward model, and loss {loss.name!r} needs a policy's "
                          f"log-probs; reward-model losses: {', '.join(reward_losses())}")
    if cfg.pair_sampler:
        raise ConfigError("head: value cannot be used with a pair_sampler (its online rejections are chosen "
                          "by log-probs)")
    if cfg.precompute_ref:
        raise ConfigError("precompute_ref: a reward model (head: value) has no reference model")


def value_policy(model, cfg: TrainConfig) -> ValueModel:
    """The backbone (already frozen / LoRA-wrapped as configured) with a new, trainable value head."""
    freeze_output_head(model)
    return ValueModel.around(model, seed=cfg.seed)
