"""Learning-rate schedules: transformers' `get_scheduler`, the sequence Hugging Face Trainer and TRL use.

With W warmup steps and T steps in all, optimiser step s (0-based) uses lr * f(s):
warmup (s < W): f = s / W, so the first step's rate is 0; then linear f = (T - s) / (T - W),
cosine f = (1 + cos(pi * (s - W) / (T - W))) / 2, constant f = 1. (docs/training.md)
"""

from __future__ import annotations

import math

from transformers import get_scheduler

# The config's names -> transformers' schedule names.
SCHEDULES = {"linear": "linear", "cosine": "cosine", "constant": "constant_with_warmup"}


def warmup_steps(total: int, steps: int, ratio: float) -> int:
    return steps if steps > 0 else int(math.ceil(total * ratio))


def build_scheduler(optimizer, kind: str, warmup: int, total: int):
    return get_scheduler(SCHEDULES[kind], optimizer, num_warmup_steps=warmup, num_training_steps=total)
