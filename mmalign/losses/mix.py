"""The SFT term and weighted sums of objectives (RPO / MPO style mixes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from .base import Loss, LossOutput, build_loss_from_config, register
from .common import check_pair, per_token

# Needs that change what the log-prob inputs mean; all terms of a mix must agree on them.
_INPUT_MEANING = ("joint", "rejected_media")


@register
@dataclass(frozen=True)
class SFT(Loss):
    """Mean token negative log-likelihood of the chosen answer: L = -log pi(y_w) / |y_w|.

    The generation term of MPO and RPO (TRL-HEAD `sft`). Per-sequence mean (a token mean over the whole
    batch would couple examples); without lengths it is the summed NLL. Rewards are the policy log-probs.
    """

    name: ClassVar[str] = "sft"
    needs: ClassVar[frozenset[str]] = frozenset({"lengths"})
    compares_pairs: ClassVar[bool] = False

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        check_pair(self.name, policy_chosen, policy_rejected)
        losses = -per_token(policy_chosen.float(), extras.get("chosen_lengths"))
        return LossOutput(losses, policy_chosen.detach().float(), policy_rejected.detach().float())


def _default_terms() -> tuple[dict[str, Any], ...]:
    return ({"name": "sigmoid"}, {"name": "sft", "weight": 1.0})


def _term_problem(spec: Any) -> str | None:
    """What is wrong with one term of a combo, or None."""
    if not isinstance(spec, (str, dict)):
        return f"each term is a loss name or {{name: NAME, weight: W, ...}}, got {spec!r}"
    weight = spec.get("weight", 1.0) if isinstance(spec, dict) else 1.0
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        return f"a term's weight must be a number, got {weight!r}"
    return None


@register
@dataclass(frozen=True)
class Combo(Loss):
    """Weighted sum of objectives: L = sum_k w_k L_k, e.g.
    `build_loss("combo", terms=[{"name": "sigmoid"}, {"name": "sft", "weight": 0.1}])`.

    Each term is a loss config (`"name"` or `{"name": ..., "weight": w, **hyper}`, weight 1 by default).
    The default is RPO's DPO + 1.0 * NLL (TRL-HEAD `loss_type=["sigmoid","sft"]`). `needs` is the union
    of the terms' needs; rewards come from the first term that uses a reference (else the first term).
    """

    name: ClassVar[str] = "combo"
    needs: ClassVar[frozenset[str]] = frozenset({"reference", "lengths"})  # of the default; set per instance
    terms: tuple[Any, ...] = field(default_factory=_default_terms)

    def __post_init__(self) -> None:
        if not self.terms:
            raise ValueError("combo: terms must name at least one loss")
        parts = []
        for spec in self.terms:
            problem = _term_problem(spec)
            if problem:
                raise ValueError(f"combo: {problem}")
            spec = {"name": spec} if isinstance(spec, str) else dict(spec)
            parts.append((float(spec.pop("weight", 1.0)), build_loss_from_config(spec)))
        needs = frozenset().union(*(p.needs for _, p in parts))
        for key in _INPUT_MEANING:
            if key in needs and not all(key in p.needs for _, p in parts):
                raise ValueError(f"combo: terms disagree on {key!r} (what the log-prob inputs mean); "
                                 f"terms: {[p.name for _, p in parts]}")
        object.__setattr__(self, "needs", needs)
        object.__setattr__(self, "_parts", tuple(parts))

    def __call__(self, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None, **extras):
        total = None
        metrics: dict[str, torch.Tensor] = {}
        rewards_from = first = None
        for i, (weight, part) in enumerate(self._parts):
            out = part(policy_chosen, policy_rejected, ref_chosen, ref_rejected, **extras)
            first = first or out
            total = weight * out.losses if total is None else total + weight * out.losses
            key = part.name if f"{part.name}_loss" not in metrics else f"{part.name}{i}"
            metrics[f"{key}_loss"] = out.losses.detach().mean()
            metrics.update({f"{key}/{k}": v for k, v in out.metrics.items()})
            if rewards_from is None and "reference" in part.needs:
                rewards_from = out
        rewards_from = rewards_from or first
        return LossOutput(total, rewards_from.chosen_rewards, rewards_from.rejected_rewards, metrics)
