"""The one trainer, in three parts that read top to bottom: `setup_run` (run_setup.py) builds the run,
`train_steps` (loop.py) trains it, and `finish` saves `final/` and scores the held-out pairs. Special
cases live in the loss, the collator or the model adapter."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..data.collate import PreferenceCollator
from ..data.reader import read_records
from ..io import write_json_atomic
from .checkpoint import save_model_folder
from .config import TrainConfig
from .evaluate import reward_accuracy
from .folder_lock import FolderLock
from .loop import train_steps
from .run_setup import TrainRun, setup_run

# A pair sampler may rewrite a micro-batch before the forward pass, with the model at hand (online
# rejections, self-generated answers). Called as sampler(batch, step=..., policy=..., reference=...).
PairSampler = Callable[..., dict]
SCORING_NEEDS = frozenset({"joint", "rejected_media"})


@dataclass
class TrainResult:
    output_dir: Path
    final_dir: Path
    steps: int
    eval: dict | None
    nonfinite_skipped: int


def train(cfg: TrainConfig, pair_sampler: PairSampler | None = None) -> TrainResult:
    # The global main process (RANK 0 under torchrun / accelerate launch) holds the folder for the whole run.
    lock = FolderLock(Path(cfg.output_dir)) if int(os.environ.get("RANK", "0")) == 0 else None
    try:
        run = setup_run(cfg, pair_sampler)
        try:
            nonfinite = train_steps(run)
            return finish(run, nonfinite)
        finally:
            run.accelerator.end_training()  # closes the trackers, if any
    finally:
        if lock is not None:
            lock.release()


def finish(run: TrainRun, nonfinite: int) -> TrainResult:
    """`final/` (every rank takes part under FSDP; the main process writes) and the held-out reward accuracy."""
    acc = run.accelerator
    acc.wait_for_everyone()
    final_dir = run.output_dir / "final"
    save_model_folder(final_dir, run.unwrapped, run.loaded.processor, final=True, accelerator=acc, wrapped=run.model)
    result_eval = None
    if run.eval_file is not None and acc.is_main_process:
        result_eval = held_out_accuracy(run)
        write_json_atomic(run.output_dir / "eval.json", result_eval)
    return TrainResult(run.output_dir, final_dir, run.total_steps, result_eval, nonfinite)


def held_out_accuracy(run: TrainRun) -> dict:
    cfg = run.cfg
    eval_root = run.eval_file.parent if cfg.eval_data.startswith("synthetic") else run.root
    # Only the needs that change what is scored: the held-out accuracy compares chosen with rejected, so
    # fields a loss reads from records (bt_margin's preference_strength) are not required of held-out pairs.
    collator = PreferenceCollator(run.loaded.processor, run.loaded.adapter, eval_root, cfg.max_length,
                                  needs=run.loss_fn.needs & SCORING_NEEDS)
    records, bad = read_records(run.eval_file, eval_root, "skip", check=collator.check_length)
    result = reward_accuracy(run.unwrapped, run.reference, run.forward, collator, records, cfg.per_device_batch_size,
                             run.accelerator.device)
    result["skipped"] = bad.total
    return result
