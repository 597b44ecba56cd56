"""The training loop: for each optimiser step, its micro-batches (prefetched by the loader) through the
scoring forward, loss and backward; then one reduce of the step's totals, the optimiser step (or a skip
when any loss was not finite), the metrics row, and a checkpoint every `save_steps`."""

from __future__ import annotations

import contextlib
import math
import time

from tqdm.auto import tqdm

from ..config import to_dict
from ..errors import MMAlignError
from ..faults import fault_point
from . import checkpoint as ckpt
from .loader import SKIPPED, BadBatch, CollateMicroBatch, StepBatches, micro_batch_loader
from .metrics import MetricsLog
from .precompute import attach_reference
from .ranks import stop_together
from .run_setup import TrainRun
from .step import batch_tokens, compute_loss, to_device
from .step_totals import StepTotals, metrics_row


def train_steps(run: TrainRun) -> int:
    """Run the steps from `run.start_step` to the end; return how many were skipped as non-finite."""
    cfg, acc = run.cfg, run.accelerator
    main = acc.is_main_process
    cuda = acc.device.type == "cuda"
    loader = micro_batch_loader(
        run.records, CollateMicroBatch(run.collator, many_rejections=cfg.rejections == "all",
                                       skip_bad=cfg.on_bad_record == "skip"),
        StepBatches(run.order, acc.process_index, run.start_step, run.total_steps), num_workers=cfg.num_workers,
        prefetch_factor=cfg.prefetch_factor, pin_memory=cuda, seed=cfg.seed)
    micro_batches = iter(loader)
    log = MetricsLog(run.output_dir / "metrics.jsonl", acc, resume_after=run.start_step) if main else None
    bar = tqdm(total=run.total_steps, initial=run.start_step, disable=not (cfg.progress and main), desc="train",
               unit="step", dynamic_ncols=True)
    run.model.train()
    streak = 0  # non-finite steps in a row
    for step in range(run.start_step, run.total_steps):
        started = time.perf_counter()
        totals = accumulate(run, step, micro_batches, non_blocking=cuda).reduced(acc)
        if totals.nonfinite:
            streak = skip_step(run, step, streak)
        else:
            streak = 0
            row = optimizer_step(run, step, totals, time.perf_counter() - started)
            if log is not None and ((step + 1) % cfg.logging_steps == 0 or step + 1 == run.total_steps):
                log.log(row)
            bar.set_postfix(loss=f"{row['loss']:.4f}", sps=f"{row['samples/s']:.1f}",
                            **({"acc": f"{row['rewards/accuracies']:.2f}"} if run.loss_fn.compares_pairs else {}))
        bar.update(1)
        if cfg.save_steps and (step + 1) % cfg.save_steps == 0 and step + 1 < run.total_steps:
            save(run, step + 1)
    bar.close()
    if log is not None:
        log.close()
    return run.nonfinite_total


def accumulate(run: TrainRun, step: int, micro_batches, non_blocking: bool = False) -> StepTotals:
    """Forward and backward over the step's micro-batches; gradients are synchronised on the last one only,
    and each micro-batch's summed loss is scaled once, by 1 / (pairs per optimiser step on this rank)."""
    cfg, acc = run.cfg, run.accelerator
    scale = 1.0 / (cfg.per_device_batch_size * cfg.gradient_accumulation_steps)
    totals = StepTotals()
    for m in range(run.order.accumulation):
        batch = next(micro_batches)
        stop_together(acc, batch.message if isinstance(batch, BadBatch) else None)
        for message in batch.pop(SKIPPED, ()):  # went bad after the start-up check; on_bad_record: skip
            print(f"step {step + 1}: skipped {message}")
        batch = to_device(batch, acc.device, non_blocking=non_blocking)
        if run.ref_table is not None:
            batch = attach_reference(batch, run.ref_table)
        if run.pair_sampler is not None:
            batch = run.pair_sampler(batch, step=step, policy=run.model, reference=run.reference)
        last = m == run.order.accumulation - 1
        with contextlib.nullcontext() if last else acc.no_sync(run.model):
            with acc.autocast():
                out, pol = compute_loss(run.model, run.reference, run.loss_fn, run.forward, batch)
            loss_sum = out.losses.float().sum()
            acc.backward(loss_sum * scale)
        totals = totals + StepTotals.of_micro_batch(out, pol, loss_sum, batch_tokens(batch))
    return totals


def skip_step(run: TrainRun, step: int, streak: int) -> int:
    """Drop the step's gradients (every rank agrees, from the reduced totals); stop after too many in a row."""
    run.optimizer.zero_grad(set_to_none=True)
    run.nonfinite_total += 1
    streak += 1
    if run.accelerator.is_main_process:
        print(f"step {step + 1}: non-finite loss; step skipped ({run.nonfinite_total} so far)")
    if streak >= run.cfg.max_consecutive_nonfinite:
        raise MMAlignError(f"stopping: {streak} non-finite losses in a row "
                           f"(max_consecutive_nonfinite={run.cfg.max_consecutive_nonfinite})")
    run.scheduler.step()
    return streak


def optimizer_step(run: TrainRun, step: int, totals: StepTotals, elapsed_before: float) -> dict:
    cfg = run.cfg
    started = time.perf_counter()
    grad_norm = run.accelerator.clip_grad_norm_(run.params, cfg.max_grad_norm if cfg.max_grad_norm > 0 else math.inf)
    lr = run.scheduler.get_last_lr()[0]
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    fault_point("optimizer-step")
    elapsed = elapsed_before + time.perf_counter() - started
    return metrics_row(totals, step=step + 1, epoch=(step + 1) / run.order.steps_per_epoch, lr=lr,
                       grad_norm=float(grad_norm), elapsed=elapsed, nonfinite_skipped=run.nonfinite_total,
                       reward_model=cfg.head == "value", compares_pairs=run.loss_fn.compares_pairs)


def save(run: TrainRun, step: int) -> None:
    state = ckpt.TrainerState(step, run.nonfinite_total, run.accelerator.num_processes, run.order.global_batch,
                              to_dict(run.cfg))
    ckpt.save_checkpoint(run.accelerator, run.output_dir, run.unwrapped, run.model, run.loaded.processor, state)
    if run.accelerator.is_main_process:
        ckpt.rotate_checkpoints(run.output_dir, run.cfg.save_total_limit)
