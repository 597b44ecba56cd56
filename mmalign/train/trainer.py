"""The one trainer. Reads top to bottom: batch -> policy log-probs -> reference log-probs -> loss ->
step -> log -> checkpoint. Special cases live in the loss, the collator or the model adapter."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml
from accelerate import Accelerator
from accelerate.state import AcceleratorState
from accelerate.utils import DistributedDataParallelKwargs, DistributedType, set_seed
from tqdm.auto import tqdm

from ..config import to_dict
from ..data.collate import PreferenceCollator
from ..data.reader import read_records
from ..data.schema import RecordProblem
from ..errors import ConfigError, DataError, MMAlignError
from ..io import write_json_atomic, write_text_atomic
from ..losses import build_loss_from_config
from ..models.load import load
from . import checkpoint as ckpt
from .backend import choose_backend, decoder_config
from .config import TrainConfig
from .evaluate import reward_accuracy
from .metrics import MetricsLog
from .order import DataOrder
from .precompute import attach_reference, file_digest, precompute_reference, reference_fingerprint
from .rejections import attach_rejected_list, rejections_per_prompt
from .rejections import check_config as check_rejections
from .schedule import build_scheduler, warmup_steps
from .setup import (
    build_policy_and_reference,
    check_precision,
    count_parameters,
    extra_data_files,
    resolve_data,
    resolve_model_path,
)
from .step import PairForward, batch_tokens, compute_loss, to_device
from .transform_data import transform_file
from .value_scoring import ValueForward, check_value_head, score_stats, score_sums, value_policy
from .video_sampler import build_pair_sampler

# A pair sampler may rewrite a micro-batch before the forward pass, with the model at hand (online
# rejections, self-generated answers). Called as sampler(batch, step=..., policy=..., reference=...).
PairSampler = Callable[..., dict]


@dataclass
class TrainResult:
    output_dir: Path
    final_dir: Path
    steps: int
    eval: dict | None
    nonfinite_skipped: int


def _check_engine(accelerator, cfg: TrainConfig) -> None:
    """Refuse combinations that would train silently wrong. The trainer accumulates gradients itself
    (no_sync + one optimizer step), but DeepSpeed's engine steps inside every backward unless told the
    accumulation, and scales the loss again: with accumulation > 1 the updates would be wrong."""
    if accelerator.distributed_type == DistributedType.DEEPSPEED and cfg.gradient_accumulation_steps > 1:
        raise ConfigError(
            f"gradient_accumulation_steps={cfg.gradient_accumulation_steps} is not supported under DeepSpeed yet "
            "(see docs/scaling.md, Known gaps); use configs/accelerate/ddp.yaml or fsdp2.yaml, or accumulation 1")


def _build_loss(cfg: TrainConfig):
    try:
        return build_loss_from_config(cfg.loss)
    except ValueError as exc:
        raise MMAlignError(f"loss: {exc}") from None


def train(cfg: TrainConfig, pair_sampler: PairSampler | None = None) -> TrainResult:
    output_dir = Path(cfg.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    loss_fn = _build_loss(cfg)
    if cfg.head == "value":
        check_value_head(cfg, loss_fn)
    if cfg.data_format == "llava" and loss_fn.needs & {"reference", "rejected_media", "joint"}:
        raise MMAlignError(f"data_format: llava has no rejected answers; use loss: {{name: sft}} "
                           f"(got {cfg.loss.get('name')!r})")
    # accelerate keeps one global state per process; a library caller (tests, the demo) may train several
    # times with different precisions, so reset it (the process group, if any, is kept).
    AcceleratorState._reset_state()
    unused = cfg.ddp_find_unused_parameters or not (cfg.freeze_vision_tower or cfg.lora.enabled)
    accelerator = Accelerator(mixed_precision=check_precision(cfg.precision), cpu=not torch.cuda.is_available(),
                              kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=unused)])
    _check_engine(accelerator, cfg)
    set_seed(cfg.seed)
    main = accelerator.is_main_process

    # -- model, data ------------------------------------------------------------------------------
    model_path = resolve_model_path(cfg, output_dir) if main else None
    accelerator.wait_for_everyone()
    model_path = model_path or resolve_model_path(cfg, output_dir)
    loaded = load(model_path, attn_implementation=cfg.attn_implementation or None)
    train_file, root, eval_file = resolve_data(cfg, output_dir)
    collator = PreferenceCollator(loaded.processor, loaded.adapter, root, max_length=cfg.max_length,
                                  needs=loss_fn.needs, num_frames=cfg.video_frames, video_backend=cfg.video_backend,
                                  online_rejected=bool(cfg.pair_sampler))
    if cfg.transforms and main:
        train_file = transform_file(train_file, cfg.transforms, output_dir / "data" / "transformed.jsonl")
    accelerator.wait_for_everyone()
    if cfg.transforms:
        train_file = output_dir / "data" / "transformed.jsonl"
    records = []
    for path in (train_file, *extra_data_files(cfg)):  # extra_data: read like data, untransformed
        more, bad = read_records(path, root, cfg.on_bad_record, check=collator.check_length,
                                 progress=cfg.progress and main)
        if bad.total and main:
            print(f"{path}: {bad.summary()}")
        records += more
    many = cfg.rejections == "all"
    if many:  # every rejection paired with chosen (rejections.py)
        check_rejections(loss_fn, cfg.precompute_ref, bool(cfg.pair_sampler))
        rejections_per_prompt(records)
    model, reference = build_policy_and_reference(loaded.model, loaded.adapter, cfg)
    if cfg.head == "value":  # a reward model: backbone + value head (value_scoring.py)
        model = value_policy(model, cfg)
    if isinstance(getattr(reference, "model", None), torch.nn.Module):
        reference.model.to(accelerator.device)
    backend = choose_backend(cfg.scoring_backend, loaded.adapter.family, decoder_config(model))
    if main:
        print(f"scoring backend: {backend.name} ({backend.reason})")
    forward = (ValueForward if cfg.head == "value" else PairForward)(
        loaded.adapter, collator.tokenizer.pad_token_id, backend.name)
    ref_table = None
    if cfg.precompute_ref and cfg.pair_sampler:
        raise MMAlignError("precompute_ref cannot be used with a pair_sampler (its rejections change every step)")
    if cfg.precompute_ref and "reference" in loss_fn.needs:
        ref_table = _precompute(cfg, model, reference, forward, collator, records, model_path, train_file, root,
                                loss_fn, output_dir, accelerator)

    # -- optimisation -----------------------------------------------------------------------------
    lengths = tuple(collator.token_counts[r.source] for r in records) if cfg.group_by_length else None
    order = DataOrder(len(records), cfg.per_device_batch_size, cfg.gradient_accumulation_steps,
                      accelerator.num_processes, cfg.seed, lengths=lengths)
    if order.steps_per_epoch == 0:
        raise MMAlignError(f"{train_file}: {len(records)} usable records cannot fill one optimiser step of "
                           f"{order.global_batch} pairs (batch x accumulation x processes)")
    total_steps = cfg.max_steps if cfg.max_steps > 0 else max(1, int(order.steps_per_epoch * cfg.num_epochs))
    if pair_sampler is None and cfg.pair_sampler:
        pair_sampler = build_pair_sampler(cfg.pair_sampler, loss=loss_fn, processor=loaded.processor,
                                          forward=forward, total_steps=total_steps, seed=cfg.seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, betas=(cfg.adam_beta1, cfg.adam_beta2),
                                  eps=cfg.adam_epsilon, weight_decay=cfg.weight_decay)
    scheduler = build_scheduler(optimizer, cfg.lr_scheduler,
                                warmup_steps(total_steps, cfg.warmup_steps, cfg.warmup_ratio), total_steps)
    model, optimizer = accelerator.prepare(model, optimizer)
    unwrapped = accelerator.unwrap_model(model)

    # -- resume -----------------------------------------------------------------------------------
    start_step = 0
    resume = ckpt.resolve_resume(output_dir, cfg.resume_from)
    if resume is not None:
        start_step = _restore(resume, unwrapped, optimizer, scheduler, cfg)
    if main:
        total, trainable = count_parameters(unwrapped)
        resolved = {**to_dict(cfg), "model": cfg.model, "resolved_model_path": model_path,
                    "parameters": {"total": total, "trainable": trainable}, "world_size": accelerator.num_processes,
                    "scoring_backend": backend.name, "scoring_backend_reason": backend.reason}
        if collator.video_backend:
            resolved["video_backend_used"] = collator.video_backend
        write_text_atomic(output_dir / "config.yaml", yaml.safe_dump(resolved, sort_keys=False))
    log = MetricsLog(output_dir / "metrics.jsonl", cfg.report_to, resume=start_step > 0,
                     config=to_dict(cfg)) if main else None
    if log is not None and start_step:
        log.truncate_after(start_step)

    # -- loop -------------------------------------------------------------------------------------
    scale = 1.0 / (cfg.per_device_batch_size * cfg.gradient_accumulation_steps)
    nonfinite_total = nonfinite_run = 0
    bar = tqdm(total=total_steps, initial=start_step, disable=not (cfg.progress and main), desc="train",
               unit="step", dynamic_ncols=True)
    model.train()
    for step in range(start_step, total_steps):
        started = time.perf_counter()
        # loss, r_c, r_l, acc, lp_c, lp_r, pairs, tokens, then the scores' sum, sum of squares and count
        sums = torch.zeros(11, device=accelerator.device)
        finite = True
        micro = order.micro_batches(step, accelerator.process_index)
        for m, indices in enumerate(micro):
            try:
                batch = collator([records[i] for i in indices])
                if many:
                    batch = attach_rejected_list(collator, [records[i] for i in indices], batch)
            except RecordProblem as problem:
                raise DataError(problem.message) from None
            batch = to_device(batch, accelerator.device)
            if ref_table is not None:
                batch = attach_reference(batch, ref_table)
            if pair_sampler is not None:
                batch = pair_sampler(batch, step=step, policy=model, reference=reference)
            sync = m == len(micro) - 1
            with accelerator.no_sync(model) if not sync else _null():
                with accelerator.autocast():
                    out, pol = compute_loss(model, reference, loss_fn, forward, batch)
                loss_sum = out.losses.float().sum()
                if not torch.isfinite(loss_sum):
                    finite = False
                accelerator.backward(loss_sum * scale)
            sums += torch.stack([
                loss_sum.detach(), out.chosen_rewards.float().sum(), out.rejected_rewards.float().reshape(
                    len(indices), -1).mean(1).sum(),
                (out.chosen_rewards.float() > out.rejected_rewards.float().reshape(len(indices), -1).amax(1))
                .float().sum(), pol.chosen.detach().float().sum(), pol.rejected.detach().float().mean(1).sum(),
                torch.tensor(float(len(indices)), device=accelerator.device),
                torch.tensor(float(batch_tokens(batch)), device=accelerator.device), *score_sums(out)])
        # Every rank must agree on skipping, or DDP would deadlock.
        finite_all = accelerator.reduce(torch.tensor(float(finite), device=accelerator.device), "sum")
        sums = accelerator.reduce(sums, "sum")
        if int(finite_all) != accelerator.num_processes:
            optimizer.zero_grad(set_to_none=True)
            nonfinite_total += 1
            nonfinite_run += 1
            if main:
                print(f"step {step + 1}: non-finite loss; step skipped ({nonfinite_total} so far)")
            if nonfinite_run >= cfg.max_consecutive_nonfinite:
                raise MMAlignError(f"stopping: {nonfinite_run} non-finite losses in a row "
                                   f"(max_consecutive_nonfinite={cfg.max_consecutive_nonfinite})")
            scheduler.step()
            bar.update(1)
            continue
        nonfinite_run = 0
        grad_norm = accelerator.clip_grad_norm_(params, cfg.max_grad_norm if cfg.max_grad_norm > 0 else math.inf)
        lr = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        elapsed = time.perf_counter() - started
        n = float(sums[6])
        row = {"step": step + 1, "epoch": round((step + 1) / order.steps_per_epoch, 4),
               "loss": float(sums[0]) / n, "rewards/chosen": float(sums[1]) / n,
               "rewards/rejected": float(sums[2]) / n, "rewards/margins": float(sums[1] - sums[2]) / n,
               "rewards/accuracies": float(sums[3]) / n, "logps/chosen": float(sums[4]) / n,
               "logps/rejected": float(sums[5]) / n, "lr": lr, "grad_norm": float(grad_norm),
               "samples/s": n / elapsed, "tokens/s": float(sums[7]) / elapsed,
               "nonfinite_skipped": nonfinite_total}
        if cfg.head == "value":  # a reward model's scores: their spread, and no log-probs
            row = {k: v for k, v in row.items() if not k.startswith("logps/")} | score_stats(sums[8:])
        if not loss_fn.compares_pairs:  # rewards and the rejected side mean nothing to SFT
            row = {k: v for k, v in row.items() if not k.startswith("rewards/") and k != "logps/rejected"}
        if log is not None and ((step + 1) % cfg.logging_steps == 0 or step + 1 == total_steps):
            log.log(row)
        bar.set_postfix(loss=f"{row['loss']:.4f}", sps=f"{row['samples/s']:.1f}",
                        **({"acc": f"{row['rewards/accuracies']:.2f}"} if loss_fn.compares_pairs else {}))
        bar.update(1)
        if cfg.save_steps and (step + 1) % cfg.save_steps == 0 and step + 1 < total_steps:
            accelerator.wait_for_everyone()
            if main:
                ckpt.save_checkpoint(output_dir, step + 1, unwrapped, loaded.processor, optimizer, scheduler,
                                     {"nonfinite_total": nonfinite_total})
                ckpt.rotate_checkpoints(output_dir, cfg.save_total_limit)
    bar.close()

    # -- final --------------------------------------------------------------------------------------
    accelerator.wait_for_everyone()
    final_dir = output_dir / "final"
    if main:
        ckpt.save_model_folder(final_dir, unwrapped, loaded.processor, final=True)
    result_eval = None
    if eval_file is not None and main:
        eval_root = eval_file.parent if cfg.eval_data.startswith("synthetic") else root
        eval_collator = PreferenceCollator(loaded.processor, loaded.adapter, eval_root, cfg.max_length,
                                           needs=loss_fn.needs)
        eval_records, eval_bad = read_records(eval_file, eval_root, "skip", check=eval_collator.check_length)
        result_eval = reward_accuracy(unwrapped, reference, forward, eval_collator, eval_records,
                                      cfg.per_device_batch_size, accelerator.device)
        result_eval["skipped"] = eval_bad.total
        write_json_atomic(output_dir / "eval.json", result_eval)
    if log is not None:
        log.close()
    return TrainResult(output_dir, final_dir, total_steps, result_eval, nonfinite_total)


def _precompute(cfg, model, reference, forward, collator, records, model_path, train_file, root, loss_fn,
                output_dir, accelerator):
    """Reference log-probs for every record, computed once (main process) and loaded by the others."""
    model.to(accelerator.device)
    fingerprint = reference_fingerprint(
        model_path, train_file, processor=None, media=[Path(root) / p for r in records for p in r.media_paths()],
        extra={"precision": cfg.precision, "max_length": cfg.max_length, "needs": sorted(loss_fn.needs),
               "lora": cfg.lora.enabled, "extra_data": [file_digest(path) for path in cfg.extra_data]})
    cache = output_dir / "ref_logps"
    table = None
    if accelerator.is_main_process:
        table = precompute_reference(lambda: reference.context(model), forward, collator, records, cache,
                                     fingerprint, cfg.per_device_batch_size)
    accelerator.wait_for_everyone()
    if table is None:
        table = precompute_reference(lambda: reference.context(model), forward, collator, records, cache,
                                     fingerprint, cfg.per_device_batch_size)
    return table


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _restore(path: Path, model, optimizer, scheduler, cfg: TrainConfig) -> int:
    """Load weights (full or adapter), optimiser, scheduler and RNG from a checkpoint; return its step."""
    from safetensors.torch import load_file

    state = ckpt.load_state(path)
    if hasattr(model, "load_head"):  # a reward model: its value head, then the backbone as below
        model.load_head(path)
        model = model.backbone
    if cfg.lora.enabled:
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, load_file(str(path / "adapter_model.safetensors")))
    else:
        # from_pretrained applies the family's key renames between the saved and in-memory layouts.
        saved = type(model).from_pretrained(path, dtype=next(model.parameters()).dtype)
        missing, unexpected = model.load_state_dict(saved.state_dict(), strict=False)
        if missing or unexpected:
            raise MMAlignError(f"{path}: checkpoint does not match the model "
                               f"({len(missing)} missing, {len(unexpected)} unexpected keys)")
        del saved
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    ckpt.set_rng_state(state["rng"])
    return int(state["step"])
