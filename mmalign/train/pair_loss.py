"""Pair log-probs from answer scores, and the loss over a record's K rejections.

`AnswerLogps` holds each record's chosen log-prob [B] and its rejections' [B, K] (K = 1: the ordinary
pair). `rejection_loss` gives the loss:

- K = 1: the loss's ordinary pair loss;
- K > 1 and a loss that takes rejection sets (VDPO / mDPO over candidate clips, `takes_rejection_sets`):
  the [B, K] log-probs as they are;
- K > 1 otherwise (`rejections: all`): each (chosen, rejection) pair gets the pair loss and a record's
  loss is the mean over its K pairs. Summed over B records and scaled by 1/B, as the trainer does, that is
  the mean over the B*K pairs: the update of a pairwise trainer given the same pairs one per line.

`with_contrastive` adds a reward model's SimCSE-style term (losses/contrastive.py) when the loss carries a
`contrastive_weight` > 0: each answer's last-token representation (`AnswerLogps.representations`, set by
the value-head forward) gets two dropout views; a record's share is the mean of its answers' InfoNCE losses,
so summed over B records and scaled by 1/B it is the mean over every answer of the micro-batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..errors import ConfigError
from ..losses import Loss, LossOutput
from ..losses.contrastive import dropout_views, simcse_infonce
from .scored_tokens import AnswerScores
from .scoring_batch import PairLayout, ScoringBatch


@dataclass
class AnswerLogps:
    chosen: torch.Tensor  # [B] summed answer-token log-probs
    rejected: torch.Tensor  # [B, K]
    chosen_lengths: torch.Tensor  # [B] answer tokens
    rejected_lengths: torch.Tensor  # [B, K]
    # [B, 1 + K, H]: each answer's final hidden state at its last token, chosen first (reward models only)
    representations: torch.Tensor | None = None


def pair_logps(scores: AnswerScores, layout: PairLayout, sb: ScoringBatch) -> AnswerLogps:
    logps, counts = scores.logps, scores.counts
    if scores.context_logps is not None:  # DOVE: the context's text tokens count with each of its answers
        logps = logps + scores.context_logps[sb.answer_context]
        counts = counts + scores.context_counts[sb.answer_context]
    return AnswerLogps(logps[layout.chosen], logps[layout.rejected], counts[layout.chosen], counts[layout.rejected])


def rejection_loss(loss: Loss, policy: AnswerLogps, ref_chosen: torch.Tensor | None,
                   ref_rejected: torch.Tensor | None, extras: dict[str, Any]) -> LossOutput:
    """The loss of a micro-batch: losses [B], chosen rewards [B], rejected rewards [B] or [B, K]."""
    b, k = policy.rejected.shape
    extras = dict(extras)
    if k == 1 or loss.takes_rejection_sets:
        rejected = policy.rejected[:, 0] if k == 1 else policy.rejected
        if "lengths" in loss.needs:
            extras.update(chosen_lengths=policy.chosen_lengths,
                          rejected_lengths=policy.rejected_lengths[:, 0] if k == 1 else policy.rejected_lengths)
        ref_r = None if ref_rejected is None else (ref_rejected[:, 0] if k == 1 else ref_rejected)
        return loss(policy.chosen, rejected, ref_chosen, ref_r, **extras)
    if "lengths" in loss.needs:
        extras.update(chosen_lengths=policy.chosen_lengths.repeat_interleave(k),
                      rejected_lengths=policy.rejected_lengths.reshape(-1))
    ref_c = None if ref_chosen is None else ref_chosen.repeat_interleave(k)
    ref_r = None if ref_rejected is None else ref_rejected.reshape(-1)
    out = loss(policy.chosen.repeat_interleave(k), policy.rejected.reshape(-1), ref_c, ref_r, **extras)
    return LossOutput(out.losses.view(b, k).mean(1), out.chosen_rewards.view(b, k).mean(1),
                      out.rejected_rewards.view(b, k), out.metrics)


def with_contrastive(loss: Loss, out: LossOutput, policy: AnswerLogps) -> LossOutput:
    """`out` with weight * (the record's mean SimCSE InfoNCE loss) added to each record's loss; `out` itself
    when the loss has no contrastive weight (nothing computed, no random numbers drawn)."""
    weight = float(getattr(loss, "contrastive_weight", 0.0))
    if weight == 0.0:
        return out
    if policy.representations is None:
        raise ConfigError(f"loss.contrastive_weight: the contrastive term reads a reward model's last-token "
                          f"representations; it needs head: value (loss {loss.name!r})")
    reps = policy.representations
    b, answers, hidden = reps.shape
    view_a, view_b = dropout_views(reps.reshape(b * answers, hidden), loss.contrastive_dropout)
    term = simcse_infonce(view_a, view_b, loss.contrastive_temperature).view(b, answers).mean(1)
    metrics = {**out.metrics, "contrastive": term.detach().mean()}
    return LossOutput(out.losses + weight * term.to(out.losses.dtype), out.chosen_rewards, out.rejected_rewards,
                      metrics)
