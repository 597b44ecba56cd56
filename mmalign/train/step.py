"""One micro-batch: policy log-probs, reference log-probs (if the loss needs them), and the loss.

The collated batch becomes a typed `ScoringBatch` once (`scoring_batch.from_collated`); the run's scoring
backend (packed or concatenated, chosen once at setup by `backend.choose_backend`) scores it for the
policy and the reference; `pairs.py` reads each record's chosen and [B, K] rejected log-probs from the
scores, and the loss takes them.
"""

from __future__ import annotations

from typing import Any

import torch

from ..losses import Loss, LossOutput
from .concatenated import concatenated_scores
from .features import add_vision_cache
from .packed import packed_scores
from .pair_loss import AnswerLogps, pair_logps, rejection_loss, with_contrastive
from .reference import reference_logps
from .scored_tokens import AnswerScores, ScoreRequest
from .scoring_batch import LIST_MASK, PairLayout, ScoringBatch, from_collated

SCORERS = {"packed": packed_scores, "concatenated": concatenated_scores}


def to_device(batch: dict[str, Any], device, non_blocking: bool = False) -> dict[str, Any]:
    """`batch` with its tensors on `device` (`non_blocking` for pinned batches on CUDA)."""
    def move(v):
        if isinstance(v, torch.Tensor):
            return v.to(device, non_blocking=non_blocking)
        return {k: move(x) for k, x in v.items()} if isinstance(v, dict) else v

    return {k: move(v) for k, v in batch.items()}


class PairForward:
    """Scores preference batches with the run's scoring backend: `prepare` turns a collated batch into a
    scoring batch (with the frozen vision part computed once, packed backend), `scores` runs one model
    call on it, `pairs` reads the pair log-probs; calling it does all three for one model."""

    def __init__(self, adapter, pad_id: int, backend: str = "packed"):
        if backend not in SCORERS:
            raise ValueError(f"unknown scoring backend {backend!r}; valid: {', '.join(SCORERS)}")
        self.adapter = adapter
        self.pad_id = pad_id
        self.backend = backend

    def prepare(self, model, batch: dict[str, Any]) -> tuple[ScoringBatch, PairLayout]:
        sb, layout = from_collated(batch, self.adapter, self.pad_id)
        return self.cached(model, sb), layout

    def cached(self, model, sb: ScoringBatch) -> ScoringBatch:
        """`sb` with the frozen part of the vision computation done once (the packed backend reads it)."""
        return add_vision_cache(model, self.adapter, sb) if self.backend == "packed" else sb

    def scores(self, model, sb: ScoringBatch, request: ScoreRequest = ScoreRequest()) -> AnswerScores:
        return SCORERS[self.backend](model, self.adapter, sb, self.pad_id, request)

    def pairs(self, model, sb: ScoringBatch, layout: PairLayout) -> AnswerLogps:
        return pair_logps(self.scores(model, sb), layout, sb)

    def __call__(self, model, batch: dict[str, Any]) -> AnswerLogps:
        return self.pairs(model, *self.prepare(model, batch))


def compute_loss(policy, reference, loss: Loss, forward: PairForward, batch) -> tuple[LossOutput, AnswerLogps]:
    sb, layout = forward.prepare(policy, batch)  # the frozen vision part once, for policy and reference
    pol = forward.pairs(policy, sb, layout)
    ref_c = ref_r = None
    if "ref_chosen_logps" in batch:  # precomputed (one rejection per record)
        ref_c, ref_r = batch["ref_chosen_logps"], batch["ref_rejected_logps"][:, None]
    elif "reference" in loss.needs:
        ref = reference_logps(reference, policy, lambda m: forward.pairs(m, sb, layout))
        ref_c, ref_r = ref.chosen, ref.rejected
    out = rejection_loss(loss, pol, ref_c, ref_r, batch.get("extras", {}))
    return with_contrastive(loss, out, pol), pol  # a reward model's SimCSE term, when weighted


def batch_tokens(batch) -> int:
    """Distinct tokens a batch carries: the prompts (image tokens included) and every answer."""
    keys = ("prompt_attention_mask", "chosen_attention_mask", "rejected_attention_mask", LIST_MASK)
    return int(sum(batch[k].sum() for k in keys if k in batch))
