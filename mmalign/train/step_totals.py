"""What one optimiser step measured: sums over its micro-batches (and, reduced, over every process), and the
metrics row they give. One all-reduce per step carries every field."""

from __future__ import annotations

from dataclasses import astuple, dataclass

import torch

from ..losses import LossOutput
from .pair_loss import AnswerLogps


@dataclass
class StepTotals:
    loss: float = 0.0
    chosen_reward: float = 0.0
    rejected_reward: float = 0.0  # each record's mean over its rejections
    correct: float = 0.0  # chosen reward above every rejection's
    chosen_logp: float = 0.0
    rejected_logp: float = 0.0
    pairs: float = 0.0
    tokens: float = 0.0
    score_sum: float = 0.0  # a reward model's scores, chosen and rejected: sum, sum of squares, count
    score_squares: float = 0.0
    score_count: float = 0.0
    nonfinite: float = 0.0  # micro-batches whose loss was not finite (any, on any rank: the step is skipped)
    contrastive: float = 0.0  # a reward model's contrastive term (losses/contrastive.py): sum over records, count
    contrastive_pairs: float = 0.0

    @classmethod
    def of_micro_batch(cls, out: LossOutput, pol: AnswerLogps, loss_sum: torch.Tensor, tokens: int) -> StepTotals:
        """The micro-batch's sums, as float tensors (still on the device; no synchronisation)."""
        n = out.chosen_rewards.shape[0]
        chosen = out.chosen_rewards.detach().float()
        rejected = out.rejected_rewards.detach().float().reshape(n, -1)
        scores = torch.cat([chosen.reshape(-1), rejected.reshape(-1)])
        term = out.metrics.get("contrastive")  # the micro-batch's mean, when the loss has the term
        return cls(loss_sum.detach().float(), chosen.sum(), rejected.mean(1).sum(),
                   (chosen > rejected.amax(1)).float().sum(), pol.chosen.detach().float().sum(),
                   pol.rejected.detach().float().mean(1).sum(), float(n), float(tokens), scores.sum(),
                   (scores * scores).sum(), float(scores.numel()), (~torch.isfinite(loss_sum)).float(),
                   0.0 if term is None else term.detach().float() * n, 0.0 if term is None else float(n))

    def __add__(self, other: StepTotals) -> StepTotals:
        return StepTotals(*(a + b for a, b in zip(astuple(self), astuple(other))))

    def reduced(self, accelerator) -> StepTotals:
        """Summed over every process, as plain floats."""
        packed = torch.stack([torch.as_tensor(v, dtype=torch.float32, device=accelerator.device).reshape(())
                              for v in astuple(self)])
        return StepTotals(*accelerator.reduce(packed, "sum").tolist())

def metrics_row(t: StepTotals, *, step: int, epoch: float, lr: float, grad_norm: float, elapsed: float,
                nonfinite_skipped: int, reward_model: bool, compares_pairs: bool) -> dict[str, float]:
    """The metrics.jsonl row of one optimiser step (per-pair means)."""
    n = max(t.pairs, 1.0)
    row = {"step": step, "epoch": round(epoch, 4), "loss": t.loss / n, "rewards/chosen": t.chosen_reward / n,
           "rewards/rejected": t.rejected_reward / n, "rewards/margins": (t.chosen_reward - t.rejected_reward) / n,
           "rewards/accuracies": t.correct / n, "logps/chosen": t.chosen_logp / n,
           "logps/rejected": t.rejected_logp / n, "lr": lr, "grad_norm": grad_norm,
           "samples/s": t.pairs / elapsed, "tokens/s": t.tokens / elapsed, "nonfinite_skipped": nonfinite_skipped}
    if reward_model:  # a reward model's scores: their spread, and no log-probs
        mean = t.score_sum / max(t.score_count, 1.0)
        std = max(t.score_squares / max(t.score_count, 1.0) - mean * mean, 0.0) ** 0.5
        row = {k: v for k, v in row.items() if not k.startswith("logps/")} | {"scores/mean": mean, "scores/std": std}
    if t.contrastive_pairs:
        row["contrastive"] = t.contrastive / t.contrastive_pairs
    if not compares_pairs:  # rewards and the rejected side mean nothing to SFT
        row = {k: v for k, v in row.items() if not k.startswith("rewards/") and k != "logps/rejected"}
    return row
