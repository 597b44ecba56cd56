"""Inputs shared by the loss tests: a batch of log-probs and the extras a loss's needs declare."""

from __future__ import annotations

import torch

B = 4


def batch(seed: int = 0, dtype=torch.float32) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    logp = lambda: -(torch.rand(B, generator=g) * 10 + 1)
    return {"policy_chosen": logp().to(dtype), "policy_rejected": logp().to(dtype),
            "ref_chosen": logp().to(dtype), "ref_rejected": logp().to(dtype)}


def extras_for(needs, n: int = B) -> dict[str, torch.Tensor]:
    ex: dict[str, torch.Tensor] = {}
    if "lengths" in needs:
        ex["chosen_lengths"] = torch.tensor([3, 5, 2, 7][:n])
        ex["rejected_lengths"] = torch.tensor([4, 1, 6, 2][:n])
    if "scores" in needs:
        ex["chosen_scores"] = torch.full((n,), 8.0)
        ex["rejected_scores"] = torch.full((n,), 3.0)
    if "win_probs" in needs:
        ex["chosen_win_prob"] = torch.full((n,), 0.7)
        ex["rejected_win_prob"] = torch.full((n,), 0.3)
    if "factuality" in needs:
        ex["chosen_hallucinated"] = torch.tensor([0, 0, 1, 0][:n])
        ex["rejected_hallucinated"] = torch.tensor([1, 0, 1, 1][:n])
    if "strength" in needs:
        ex["preference_strength"] = torch.tensor([0.5, -0.2, 1.0, 0.1][:n])
    return ex


def call(loss, inputs: dict[str, torch.Tensor], extras: dict[str, torch.Tensor]):
    """Call with the reference only when the loss uses one (reward-model and SFT losses get None)."""
    if "reference" in loss.needs:
        return loss(inputs["policy_chosen"], inputs["policy_rejected"], inputs["ref_chosen"],
                    inputs["ref_rejected"], **extras)
    return loss(inputs["policy_chosen"], inputs["policy_rejected"], None, None, **extras)
