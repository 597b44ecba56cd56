"""Small helpers shared by the objectives: float32 log-ratios, shape checks, length normalisation."""

from __future__ import annotations

from typing import Any

import torch


def check_pair(name: str, policy_chosen: torch.Tensor, policy_rejected: torch.Tensor) -> None:
    """One chosen and one rejected per example, both `[B]`."""
    if policy_chosen.dim() != 1:
        raise ValueError(f"loss {name!r}: policy_chosen must have shape [B], got {tuple(policy_chosen.shape)}")
    if policy_rejected.shape != policy_chosen.shape:
        raise ValueError(f"loss {name!r} takes one rejected per pair: policy_rejected must have shape "
                         f"{tuple(policy_chosen.shape)}, got {tuple(policy_rejected.shape)}")


def log_ratios(name: str, policy_chosen, policy_rejected, ref_chosen=None, ref_rejected=None):
    """r_w = log pi(y_w) - log pi_ref(y_w), r_l likewise, in float32, each `[B]`.

    A missing reference counts as log pi_ref = 0 (reference-free, as the DPO code's `reference_free`).
    """
    check_pair(name, policy_chosen, policy_rejected)
    r_w = policy_chosen.float() if ref_chosen is None else policy_chosen.float() - ref_chosen.float()
    r_l = policy_rejected.float() if ref_rejected is None else policy_rejected.float() - ref_rejected.float()
    return r_w, r_l


def per_token(x: torch.Tensor, lengths: Any) -> torch.Tensor:
    """x / |y| when lengths are given (clamped at 1 token), x unchanged when not."""
    if lengths is None:
        return x
    n = torch.as_tensor(lengths, device=x.device).float().clamp(min=1.0)
    return x / n


def require(name: str, like: torch.Tensor, extras: dict[str, Any], *keys: str) -> list[torch.Tensor]:
    """The named extras as float32 tensors on `like`'s device, or a ValueError naming the missing ones."""
    missing = [k for k in keys if extras.get(k) is None]
    if missing:
        raise ValueError(f"loss {name!r} needs the extras {', '.join(missing)}")
    return [torch.as_tensor(extras[k], device=like.device).float() for k in keys]
