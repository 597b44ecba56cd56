"""Learning-rate schedules: linear warmup, then linear, cosine or constant."""

from __future__ import annotations

import math

import torch


def warmup_steps(total: int, steps: int, ratio: float) -> int:
    return steps if steps > 0 else int(math.ceil(total * ratio))


def lr_lambda(kind: str, warmup: int, total: int):
    def f(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        if kind == "constant":
            return 1.0
        progress = (step - warmup) / max(1, total - warmup)
        progress = min(max(progress, 0.0), 1.0)
        if kind == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        return 1.0 - progress

    return f


def build_scheduler(optimizer, kind: str, warmup: int, total: int):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(kind, warmup, total))
