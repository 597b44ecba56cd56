"""Deterministic data order, so a resumed run sees exactly the batches an uninterrupted one would.

The order of epoch e is a permutation drawn from (seed, e); a global batch is the next
`per_device * accumulation * world` indices, and each micro-step of each rank takes its own slice.
Incomplete global batches at the end of an epoch are dropped, so every optimiser step averages the same
number of pairs (and gradient accumulation is exactly invariant).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DataOrder:
    n_records: int
    per_device: int
    accumulation: int
    world: int
    seed: int

    @property
    def global_batch(self) -> int:
        return self.per_device * self.accumulation * self.world

    @property
    def steps_per_epoch(self) -> int:
        return self.n_records // self.global_batch

    def permutation(self, epoch: int) -> list[int]:
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        return torch.randperm(self.n_records, generator=g).tolist()

    def micro_batches(self, step: int, rank: int) -> list[list[int]]:
        """Record indices of each micro-batch of optimiser step `step` (0-based) on `rank`."""
        if self.steps_per_epoch == 0:
            raise ValueError(f"{self.n_records} records cannot fill one global batch of {self.global_batch}")
        epoch, within = divmod(step, self.steps_per_epoch)
        perm = self.permutation(epoch)
        start = within * self.global_batch
        chunk = perm[start:start + self.global_batch]
        # Rank-major within each micro-step: micro-step m on rank r takes the same pairs whatever the
        # world size, as long as per_device * world is constant.
        out = []
        for m in range(self.accumulation):
            base = m * self.per_device * self.world + rank * self.per_device
            out.append(chunk[base:base + self.per_device])
        return out
