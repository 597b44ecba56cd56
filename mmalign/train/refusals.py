"""What the trainer refuses, decided in one place, before any model is loaded; `mmalign train --dry-run`
asks the same questions. Each refusal is a ConfigError naming the key and what to do instead."""

from __future__ import annotations

from ..errors import ConfigError, MMAlignError
from ..losses import Loss, build_loss_from_config
from .config import TrainConfig
from .rejections import check_config as check_rejections
from .value_scoring import check_value_head

DEEPSPEED_ENGINES = frozenset({"deepspeed", "zero2", "zero3"})


def build_loss(cfg: TrainConfig) -> Loss:
    try:
        return build_loss_from_config(cfg.loss)
    except ValueError as exc:
        raise MMAlignError(f"loss: {exc}") from None


def check_training_config(cfg: TrainConfig, loss: Loss, engine: str | None = None) -> None:
    """Raise for a combination that cannot train, or would train silently wrong. `engine`: the distributed
    engine ('ddp', 'fsdp2', 'zero2', 'zero3', or accelerate's 'deepspeed'), when known."""
    if cfg.head == "value":
        check_value_head(cfg, loss)
    if cfg.data_format == "llava" and loss.needs & {"reference", "rejected_media", "joint"}:
        raise ConfigError(f"data_format: llava has no rejected answers; use loss: {{name: sft}} "
                          f"(got {cfg.loss.get('name')!r})")
    if cfg.precompute_ref and cfg.pair_sampler:
        raise ConfigError("precompute_ref cannot be used with a pair_sampler (its rejections change every step)")
    if cfg.rejections == "all":
        check_rejections(loss, cfg.precompute_ref, bool(cfg.pair_sampler))
    if engine in DEEPSPEED_ENGINES and cfg.gradient_accumulation_steps > 1:
        # The trainer accumulates itself (no_sync + one optimiser step); DeepSpeed's engine steps inside every
        # backward unless told the accumulation and scales the loss again, so the updates would be wrong.
        raise ConfigError(
            f"gradient_accumulation_steps={cfg.gradient_accumulation_steps} is not supported under DeepSpeed yet "
            "(see docs/scaling.md, Known gaps); use configs/accelerate/ddp.yaml or fsdp2.yaml, or accumulation 1")
    if cfg.num_workers < 0:
        raise ConfigError(f"num_workers: {cfg.num_workers} (0 = collate in the training process, N > 0 workers)")
