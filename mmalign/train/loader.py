"""Micro-batches through a `torch.utils.data.DataLoader`, so the next ones are collated (images opened,
videos decoded, prompts tokenised) while the model computes on the current one.

The data order (`order.DataOrder`) already gives each rank its own slice of every optimiser step, so it is
the loader's batch sampler as it is: the loader is not passed through `accelerator.prepare`, which would
shard it a second time. A resumed run starts the sampler at its checkpoint's step and sees exactly the
micro-batches an uninterrupted run would. `num_workers` collate in worker processes (0 = in the training
process, the default on a CPU, where the cores are busy with the model); on CUDA the batches are pinned.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader, Sampler

from ..data.schema import PreferenceRecord, RecordProblem
from .order import DataOrder
from .rejections import attach_rejected_list

SKIPPED = "skipped_records"  # batch key: 'file:line: problem' of records left out under on_bad_record: skip


class StepBatches(Sampler[list[int]]):
    """Record indices of every micro-batch this rank trains on, steps `start` .. `stop` - 1 in order."""

    def __init__(self, order: DataOrder, rank: int, start: int, stop: int):
        self.order, self.rank, self.start, self.stop = order, rank, start, stop

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start, self.stop):
            yield from self.order.micro_batches(step, self.rank)

    def __len__(self) -> int:
        return max(0, self.stop - self.start) * self.order.accumulation


@dataclass(frozen=True)
class BadBatch:
    """A micro-batch that could not be collated (a record whose media went bad after the check). Returned,
    not raised, so the message arrives intact from a worker and every rank can stop together."""

    message: str


@dataclass
class CollateMicroBatch:
    """The collate function: records -> the collator's batch (plus the rejected_list answers for
    `rejections: all`). A record that went bad after the start-up check (a media file changed or removed
    mid-epoch) gives a `BadBatch` naming it (`on_bad_record: error`), or (`skip`) is left out of its
    micro-batch and named under `SKIPPED` in the batch."""

    collator: Any
    many_rejections: bool = False
    skip_bad: bool = False

    def __call__(self, records: list[PreferenceRecord]) -> dict[str, Any] | BadBatch:
        try:
            return self._collate(records)
        except RecordProblem as problem:
            culprit, message = self._culprit(records, problem)
        if not self.skip_bad or culprit is None:
            return BadBatch(message)
        rest = [r for r in records if r is not culprit]
        if not rest:
            return BadBatch(f"{message} (every record of its micro-batch is bad)")
        batch = self(rest)
        if isinstance(batch, BadBatch):
            return batch
        return {**batch, SKIPPED: [message, *batch.get(SKIPPED, [])]}

    def _collate(self, records: list[PreferenceRecord]) -> dict[str, Any]:
        batch = self.collator(records)
        if self.many_rejections:
            batch = attach_rejected_list(self.collator, records, batch)
        return batch

    def _culprit(self, records: list[PreferenceRecord], problem: RecordProblem
                 ) -> tuple[PreferenceRecord | None, str]:
        """The record that failed and 'file:line: problem' (each collated alone; only after a failure)."""
        for rec in records:
            try:
                self.collator([rec])
            except RecordProblem as own:
                return rec, f"{rec.source}: {own.message}"
        return None, f"{records[0].source} (a record of its micro-batch): {problem.message}"


def micro_batch_loader(records: Sequence[PreferenceRecord], collate: CollateMicroBatch, sampler: StepBatches, *,
                       num_workers: int = 0, prefetch_factor: int = 2, pin_memory: bool = False,
                       seed: int = 0) -> DataLoader:
    """A DataLoader over `records` in the sampler's order. Its own generator keeps the loader from drawing
    worker seeds from the global torch RNG, which would shift dropout between a resumed run and an
    uninterrupted one."""
    workers = {"prefetch_factor": prefetch_factor, "persistent_workers": False} if num_workers > 0 else {}
    return DataLoader(records, batch_sampler=sampler, collate_fn=collate, num_workers=num_workers,
                      pin_memory=pin_memory, generator=torch.Generator().manual_seed(seed), **workers)
