"""Everything a run needs before its first step, in the order it is built: refusals and inputs (no model
loaded yet), the accelerator, model and records, the scoring forward, the optimiser and schedule, and the
resume. `setup_run` returns it as one `TrainRun`."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from accelerate import Accelerator
from accelerate.state import AcceleratorState
from accelerate.utils import DistributedDataParallelKwargs, set_seed

from ..config import to_dict
from ..data.collate import PreferenceCollator
from ..data.image_limits import set_max_image_pixels
from ..errors import ConfigError
from ..io import write_text_atomic
from ..losses import Loss
from ..models.load import Loaded, check_model_path, load
from ..models.tiny_registry import TINY_BUILDERS
from . import checkpoint as ckpt
from .backend import ScoringBackend, choose_backend, decoder_config
from .checked_records import ParsedRecords, check_training_records, parse_training_records
from .config import TrainConfig
from .fsdp_wrap import narrow_wrap_classes
from .cpu_malloc import tune_for_cpu_training
from .metrics import flat_config, tracker_for
from .order import DataOrder
from .precompute_run import precompute_for_run
from .ranks import main_first
from .refusals import build_loss, check_training_config
from .rejections import rejections_per_prompt
from .restore import check_resumable, restore
from .schedule import build_scheduler, warmup_steps
from .setup import (
    build_policy_and_reference,
    check_precision,
    count_parameters,
    extra_data_files,
    resolve_data,
    resolve_model_path,
)
from .step import PairForward
from .transform_data import transform_file
from .value_scoring import ValueForward, value_policy
from .video_sampler import build_pair_sampler

# What a finished or interrupted run leaves in its output_dir (base-model/, data/ and ref_logps/ are caches
# keyed by content, shared by reruns).
RUN_OUTPUTS = ("metrics.jsonl", "final", "eval.json", "config.yaml")


@dataclass
class TrainRun:
    cfg: TrainConfig
    output_dir: Path
    accelerator: Accelerator
    loaded: Loaded
    loss_fn: Loss
    collator: PreferenceCollator
    records: list
    model: Any  # as prepared by accelerate (DDP / FSDP wrapped)
    unwrapped: Any
    reference: Any
    forward: PairForward
    backend: ScoringBackend  # which scoring backend, and why
    optimizer: Any
    scheduler: Any
    params: list
    order: DataOrder
    total_steps: int
    start_step: int
    nonfinite_total: int
    pair_sampler: Callable[..., dict] | None
    ref_table: dict | None
    eval_file: Path | None
    root: Path


@dataclass
class RunInputs:
    """The run's files, found and read before any model is loaded."""

    loss_fn: Loss
    train_file: Path
    root: Path
    eval_file: Path | None
    parsed: ParsedRecords
    resume: Path | None


def setup_run(cfg: TrainConfig, pair_sampler=None) -> TrainRun:
    output_dir = Path(cfg.output_dir)
    set_max_image_pixels(cfg.max_image_pixels)  # library callers too; forked loader workers inherit it
    accelerator = make_accelerator(cfg, output_dir)
    inputs = main_first(accelerator, lambda: read_inputs(cfg, output_dir, accelerator.is_main_process),
                        then=lambda: read_inputs(cfg, output_dir, False))
    model_path = main_first(accelerator, lambda: resolve_model_path(cfg, output_dir))
    loaded = load(model_path, attn_implementation=cfg.attn_implementation or None, trust_remote_code=cfg.trust_remote_code)
    collator = PreferenceCollator(loaded.processor, loaded.adapter, inputs.root, max_length=cfg.max_length,
                                  needs=inputs.loss_fn.needs, num_frames=cfg.video_frames,
                                  video_backend=cfg.video_backend, online_rejected=bool(cfg.pair_sampler))
    records = check_training_records(
        accelerator, inputs.parsed, inputs.root, collator, model_path=model_path, on_bad_record=cfg.on_bad_record,
        cache_dir=output_dir / "data", progress=cfg.progress,
        settings={"max_length": cfg.max_length, "needs": sorted(inputs.loss_fn.needs), "frames": cfg.video_frames,
                  "video_backend": cfg.video_backend, "online_rejected": bool(cfg.pair_sampler)})
    if cfg.rejections == "all":  # every rejection paired with chosen (rejections.py)
        rejections_per_prompt(records)
    model, reference, forward, backend = build_models(cfg, loaded, collator, accelerator)
    ref_table = None
    if cfg.precompute_ref and "reference" in inputs.loss_fn.needs:
        ref_table = precompute_for_run(cfg, model, reference, forward, collator, records, model_path,
                                       inputs.train_file, inputs.root, inputs.loss_fn, output_dir, accelerator)
    order = data_order(cfg, records, collator, accelerator, inputs.train_file)
    total_steps = cfg.max_steps if cfg.max_steps > 0 else max(1, int(order.steps_per_epoch * cfg.num_epochs))
    if pair_sampler is None and cfg.pair_sampler:
        pair_sampler = build_pair_sampler(cfg.pair_sampler, loss=inputs.loss_fn, processor=loaded.processor,
                                          forward=forward, total_steps=total_steps, seed=cfg.seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, betas=(cfg.adam_beta1, cfg.adam_beta2),
                                  eps=cfg.adam_epsilon, weight_decay=cfg.weight_decay)
    scheduler = build_scheduler(optimizer, cfg.lr_scheduler,
                                warmup_steps(total_steps, cfg.warmup_steps, cfg.warmup_ratio), total_steps)
    narrow_wrap_classes(getattr(accelerator.state, "fsdp_plugin", None), model)
    prepared, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    # FSDP2 replaces every parameter with a sharded one (and accelerate points the optimiser at those):
    # clipping and the logged grad norm must read the new ones, else they see no gradient at all.
    params = [p for p in prepared.parameters() if p.requires_grad]
    run = TrainRun(cfg, output_dir, accelerator, loaded, inputs.loss_fn, collator, records, prepared,
                   accelerator.unwrap_model(prepared), reference, forward, backend, optimizer, scheduler, params,
                   order, total_steps, 0, 0, pair_sampler, ref_table, inputs.eval_file, inputs.root)
    if inputs.resume is not None:
        resume_run(run, inputs.resume)
    write_resolved_config(run, model_path)
    return run


def make_accelerator(cfg: TrainConfig, output_dir: Path) -> Accelerator:
    # accelerate keeps one global state per process; a library caller (tests, the demo) may train several
    # times with different precisions, so reset it (the process group, if any, is kept).
    AcceleratorState._reset_state()
    unused = cfg.ddp_find_unused_parameters or not (cfg.freeze_vision_tower or cfg.lora.enabled)
    tracker = tracker_for(cfg.report_to)
    # The schedule is stepped once per optimiser step on every rank (its length already counts the ranks):
    # accelerate's default would step it once per process.
    accelerator = Accelerator(mixed_precision=check_precision(cfg.precision), cpu=not torch.cuda.is_available(),
                              kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=unused)],
                              step_scheduler_with_optimizer=False, log_with=tracker, project_dir=str(output_dir))
    if tracker is not None:
        accelerator.init_trackers("mmalign", config=flat_config(to_dict(cfg)))
    # The weights live in checkpoint-N/ as Hugging Face / PEFT files; accelerate's state beside them holds
    # the rest (under FSDP it saves and loads the model's shards itself, outside these lists).
    accelerator.register_save_state_pre_hook(lambda models, weights, where: weights.clear())
    accelerator.register_load_state_pre_hook(lambda models, where: models.clear())
    check_training_config(cfg, build_loss(cfg), engine=accelerator.distributed_type.name.lower())
    if accelerator.device.type == "cpu":
        tune_for_cpu_training()
    set_seed(cfg.seed)
    return accelerator


def read_inputs(cfg: TrainConfig, output_dir: Path, main: bool) -> RunInputs:
    """Refusals, the output folder, the data files (transformed on the main process) and their records:
    every user input checked before a model is loaded."""
    loss_fn = build_loss(cfg)
    check_training_config(cfg, loss_fn)
    if cfg.model not in TINY_BUILDERS:
        check_model_path(cfg.model)  # a mistyped path or an unreachable hub name, before the data is read
    resume = ckpt.resolve_resume(output_dir, cfg.resume_from)
    if main:
        claim_output_dir(output_dir, cfg, resume)
    train_file, root, eval_file = resolve_data(cfg, output_dir)
    if cfg.transforms:
        target = output_dir / "data" / "transformed.jsonl"
        train_file = transform_file(train_file, cfg.transforms, target) if main else target
    parsed = parse_training_records([train_file, *extra_data_files(cfg)], root, cfg.on_bad_record)
    return RunInputs(loss_fn, train_file, root, eval_file, parsed, resume)


def claim_output_dir(output_dir: Path, cfg: TrainConfig, resume: Path | None) -> None:
    """Refuse to mix two runs in one folder: a folder holding another run's outputs needs resume_from (this
    run continues it) or overwrite: true (its outputs are deleted first)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    found = [name for name in RUN_OUTPUTS if (output_dir / name).exists()]
    found += [p.name for p in ckpt.list_checkpoints(output_dir)]
    if not found or resume is not None:
        return  # a new folder, or this run continues the one in it
    if cfg.resume_from == "latest" and "final" not in found:
        return  # "latest" with no checkpoint yet: the interrupted run starts again from step 0
    if not cfg.overwrite:
        raise ConfigError(f"output_dir {output_dir} holds another run ({', '.join(sorted(found)[:4])}); continue it "
                          "with resume_from=latest, start it afresh with overwrite=true, or choose another "
                          "output_dir")
    for name in found:
        target = output_dir / name
        shutil.rmtree(target) if target.is_dir() else target.unlink()


def build_models(cfg: TrainConfig, loaded: Loaded, collator, accelerator):
    """(policy, reference, scoring forward): frozen parts, LoRA, the reference, a value head for reward
    models, and the scoring backend."""
    model, reference = build_policy_and_reference(loaded.model, loaded.adapter, cfg)
    if cfg.head == "value":  # a reward model: backbone + value head (value_scoring.py)
        model = value_policy(model, cfg)
    if isinstance(getattr(reference, "model", None), torch.nn.Module):
        reference.model.to(accelerator.device)
    backend = choose_backend(cfg.scoring_backend, loaded.adapter.family, decoder_config(model))
    if accelerator.is_main_process:
        print(f"scoring backend: {backend.name} ({backend.reason})")
    forward = (ValueForward if cfg.head == "value" else PairForward)(
        loaded.adapter, collator.tokenizer.pad_token_id, backend.name)
    return model, reference, forward, backend


def data_order(cfg: TrainConfig, records: list, collator, accelerator, train_file: Path) -> DataOrder:
    lengths = tuple(collator.token_counts[r.source] for r in records) if cfg.group_by_length else None
    order = DataOrder(len(records), cfg.per_device_batch_size, cfg.gradient_accumulation_steps,
                      accelerator.num_processes, cfg.seed, lengths=lengths)
    if order.steps_per_epoch == 0:
        raise ConfigError(f"{train_file}: {len(records)} usable records cannot fill one optimiser step of "
                          f"{order.global_batch} pairs (batch x accumulation x processes)")
    return order


def resume_run(run: TrainRun, path: Path) -> None:
    state = ckpt.TrainerState.read(path)
    check_resumable(path, state, to_dict(run.cfg), run.order.global_batch)
    restore(run.accelerator, path, run.unwrapped, lora=run.cfg.lora.enabled)
    run.start_step, run.nonfinite_total = state.step, state.nonfinite_total


def write_resolved_config(run: TrainRun, model_path: str) -> None:
    if not run.accelerator.is_main_process:
        return
    cfg = run.cfg
    total, trainable = count_parameters(run.unwrapped)
    resolved = {**to_dict(cfg), "model": cfg.model, "resolved_model_path": model_path,
                "parameters": {"total": total, "trainable": trainable}, "world_size": run.accelerator.num_processes,
                "scoring_backend": run.backend.name, "scoring_backend_reason": run.backend.reason}
    if run.collator.video_backend:
        resolved["video_backend_used"] = run.collator.video_backend
    write_text_atomic(run.output_dir / "config.yaml", yaml.safe_dump(resolved, sort_keys=False))
