"""Held-out preference accuracy: how often the trained policy's implicit reward (or a reward model's score)
prefers the chosen answer."""

from __future__ import annotations

import torch

from .reference import reference_logps
from .step import PairForward, to_device


@torch.no_grad()
def reward_accuracy(policy, reference, forward: PairForward, collator, records, batch_size: int, device) -> dict:
    """Fraction of pairs with r(chosen) > r(rejected), r = log pi - log pi_ref (a reward model, reference
    None: r = its score); also the mean margin."""
    was_training = policy.training
    policy.eval()
    margins: list[float] = []
    for start in range(0, len(records), batch_size):
        batch = to_device(collator(records[start:start + batch_size]), device)
        pol = forward(policy, batch)
        if reference is None:  # a reward model: its scores are the rewards
            margins += (pol.chosen - pol.rejected[:, 0]).float().tolist()
            continue
        ref = reference_logps(reference, policy, lambda m: forward(m, batch))
        margins += ((pol.chosen - ref.chosen) - (pol.rejected[:, 0] - ref.rejected[:, 0])).float().tolist()
    policy.train(was_training)
    result = _summary(margins)
    # Per-kind breakdown when records carry meta.kind (the synthetic world does).
    kinds = sorted({str(r.meta.get("kind")) for r in records if r.meta.get("kind") is not None})
    if kinds:
        result["by_kind"] = {k: _summary([m for m, r in zip(margins, records) if str(r.meta.get("kind")) == k])
                             for k in kinds}
    return result


def _summary(margins: list[float]) -> dict:
    n = len(margins)
    return {"reward_accuracy": sum(m > 0 for m in margins) / max(n, 1),
            "reward_margin": sum(margins) / max(n, 1), "pairs": n}
