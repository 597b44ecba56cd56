"""One micro-batch: policy log-probs, reference log-probs (if the loss needs them), and the loss."""

from __future__ import annotations

from typing import Any

import torch

from ..losses import Loss, LossOutput
from .logps import AnswerLogps
from .prefix import pair_forward, with_image_features
from .reference import reference_logps
from .rejections import LIST_MASK, pairwise_loss


def to_device(batch: dict[str, Any], device) -> dict[str, Any]:
    def move(v):
        if isinstance(v, torch.Tensor):
            return v.to(device)
        return {k: move(x) for k, x in v.items()} if isinstance(v, dict) else v

    return {k: move(v) for k, v in batch.items()}


def loss_extras(loss: Loss, policy: AnswerLogps, batch: dict[str, Any]) -> dict[str, Any]:
    """The keyword extras a loss declared in `needs`, from the log-prob pass and the batch."""
    extras: dict[str, Any] = {}
    if "lengths" in loss.needs:
        extras["chosen_lengths"] = policy.chosen_lengths
        extras["rejected_lengths"] = policy.rejected_lengths
    for key, value in batch.get("extras", {}).items():
        extras[key] = value
    return extras


class PairForward:
    """Computes policy and reference answer log-probs for a preference batch: the shared-prefix forward
    (prompt and images once per pair) where the family and batch allow it, the plain one otherwise."""

    def __init__(self, adapter, pad_id: int):
        self.adapter = adapter
        self.pad_id = pad_id

    def __call__(self, model, batch) -> AnswerLogps:
        return pair_forward(model, self.adapter, batch, self.pad_id)


def compute_loss(policy, reference, loss: Loss, forward: PairForward, batch) -> tuple[LossOutput, AnswerLogps]:
    # With a frozen vision tower its output is computed once and shared by policy and reference.
    adapter = getattr(forward, "adapter", None)  # plain callables (tests, custom forwards) skip the cache
    if adapter is not None:
        batch = with_image_features(policy, adapter, batch)
    pol = forward(policy, batch)
    ref = None
    if "reference" in loss.needs and "ref_chosen_logps" not in batch:
        ref = reference_logps(reference, policy, lambda m: forward(m, batch))
    if LIST_MASK in batch:  # several rejections per prompt: each paired with chosen (rejections.py)
        return pairwise_loss(loss, pol, ref), pol
    ref_c = ref_r = None
    if "ref_chosen_logps" in batch:  # precomputed
        ref_c, ref_r = batch["ref_chosen_logps"], batch["ref_rejected_logps"]
    elif ref is not None:
        ref_c, ref_r = ref.chosen, ref.rejected
    out = loss(pol.chosen, pol.rejected, ref_c, ref_r, **loss_extras(loss, pol, batch))
    return out, pol


def batch_tokens(batch) -> int:
    """Distinct tokens a batch carries: the prompts (image tokens included) and every answer."""
    keys = ("prompt_attention_mask", "chosen_attention_mask", "rejected_attention_mask", LIST_MASK)
    return int(sum(batch[k].sum() for k in keys if k in batch))
