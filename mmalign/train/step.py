"""One micro-batch: policy log-probs, reference log-probs (if the loss needs them), and the loss."""

from __future__ import annotations

from typing import Any

import torch

from ..losses import Loss, LossOutput
from .logps import AnswerLogps, concatenated_forward
from .prefix import prefix_forward, with_image_features
from .reference import reference_logps
from .rejections import LIST_IDS, LIST_MASK, pairwise_loss, plain_with_list


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
    """Computes policy and reference answer log-probs for a preference batch with the run's scoring backend
    (`backend.choose_backend`, decided once at setup): the packed forward, or the concatenated one."""

    def __init__(self, adapter, pad_id: int, backend: str = "packed"):
        self.adapter = adapter
        self.pad_id = pad_id
        self.backend = backend

    def __call__(self, model, batch) -> AnswerLogps:
        if self.backend == "packed":
            return prefix_forward(model, self.adapter, batch, self.pad_id)
        if LIST_IDS in batch:
            return plain_with_list(lambda b: concatenated_forward(model, self.adapter, b, self.pad_id), batch)
        return concatenated_forward(model, self.adapter, batch, self.pad_id)


def compute_loss(policy, reference, loss: Loss, forward: PairForward, batch) -> tuple[LossOutput, AnswerLogps]:
    # With a frozen vision tower its output is computed once and shared by policy and reference.
    if getattr(forward, "backend", None) == "packed":  # plain callables (tests, custom forwards) skip the cache
        batch = with_image_features(policy, forward.adapter, batch)
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
