"""Held-out preference accuracy: how often the trained policy's implicit reward prefers the chosen answer."""

from __future__ import annotations

import torch

from .step import PairForward, to_device
from .reference import reference_logps


@torch.no_grad()
def reward_accuracy(policy, reference, forward: PairForward, collator, records, batch_size: int, device) -> dict:
    """Fraction of pairs with r(chosen) > r(rejected), r = log pi - log pi_ref; also the mean margin."""
    was_training = policy.training
    policy.eval()
    wins, margin, n = 0.0, 0.0, 0
    for start in range(0, len(records), batch_size):
        batch = to_device(collator(records[start:start + batch_size]), device)
        pol = forward(policy, batch)
        ref = reference_logps(reference, policy, lambda m: forward(m, batch))
        m = (pol.chosen - ref.chosen) - (pol.rejected - ref.rejected)
        wins += float((m > 0).sum())
        margin += float(m.sum())
        n += m.numel()
    policy.train(was_training)
    return {"reward_accuracy": wins / max(n, 1), "reward_margin": margin / max(n, 1), "pairs": n}
