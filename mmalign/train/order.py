"""Deterministic data order, so a resumed run sees exactly the batches an uninterrupted one would.

The order of epoch e is a permutation drawn from (seed, e); a global batch is the next
`per_device * accumulation * world` indices, and each micro-step of each rank takes its own slice.
Incomplete global batches at the end of an epoch are dropped, so every optimiser step averages the same
number of pairs (and gradient accumulation is exactly invariant).

With `lengths` (tokens per record; `group_by_length: true`), each window of `window` global batches of the
permutation is sorted by length and cut into global batches, whose order inside the window is shuffled
again: a micro-batch then holds records of similar length (little padding, which multi-image records of
2-9 images otherwise waste), while the epoch still visits every record once in a seeded random order and
the batch layout (and so accumulation / world-size invariance) is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class DataOrder:
    n_records: int
    per_device: int
    accumulation: int
    world: int
    seed: int
    lengths: tuple[int, ...] | None = None
    window: int = 64  # global batches sorted together: larger = less padding, less randomness
    # The latest epoch's order: micro_batches runs every step, and drawing (and, grouped, sorting) the
    # whole permutation each time would cost O(n log n) per step on large datasets.
    _latest: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.lengths is not None and len(self.lengths) != self.n_records:
            raise ValueError(f"{len(self.lengths)} lengths for {self.n_records} records")

    @property
    def global_batch(self) -> int:
        return self.per_device * self.accumulation * self.world

    @property
    def steps_per_epoch(self) -> int:
        return self.n_records // self.global_batch

    def permutation(self, epoch: int) -> list[int]:
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        perm = torch.randperm(self.n_records, generator=g).tolist()
        if self.lengths is None:
            return perm
        out: list[int] = []
        size = self.global_batch * self.window
        for start in range(0, len(perm), size):
            # Longest first inside the window; ties keep the random order (sorted is stable).
            window = sorted(perm[start:start + size], key=lambda i: -self.lengths[i])
            batches = [window[b:b + self.global_batch] for b in range(0, len(window), self.global_batch)]
            full = [b for b in batches if len(b) == self.global_batch]
            for j in torch.randperm(len(full), generator=g).tolist():
                out += full[j]
            out += [i for b in batches if len(b) < self.global_batch for i in b]  # the epoch's dropped tail
        return out

    def micro_batches(self, step: int, rank: int) -> list[list[int]]:
        """Record indices of each micro-batch of optimiser step `step` (0-based) on `rank`."""
        if self.steps_per_epoch == 0:
            raise ValueError(f"{self.n_records} records cannot fill one global batch of {self.global_batch}")
        epoch, within = divmod(step, self.steps_per_epoch)
        if epoch not in self._latest:
            self._latest.clear()
            self._latest[epoch] = self.permutation(epoch)
        perm = self._latest[epoch]
        start = within * self.global_batch
        chunk = perm[start:start + self.global_batch]
        # Rank-major within each micro-step: micro-step m on rank r takes the same pairs whatever the
        # world size, as long as per_device * world is constant.
        out = []
        for m in range(self.accumulation):
            base = m * self.per_device * self.world + rank * self.per_device
            out.append(chunk[base:base + self.per_device])
        return out
