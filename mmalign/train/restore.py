"""Resuming from a checkpoint: refuse one written by a different config, then load the weights into the
running model and the optimiser, scheduler and RNG states through accelerate."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from ..errors import ConfigError, MMAlignError
from .checkpoint import ACCELERATE_DIR, TrainerState, is_fsdp

# Keys a resumed run may change: where and how it reports, how it loads data, and how the same global
# batch is split (per-device batch x accumulation x processes, checked as a product).
RESUME_SAFE = frozenset({
    "output_dir", "resume_from", "overwrite", "progress", "report_to", "logging_steps", "save_steps",
    "save_total_limit", "num_workers", "prefetch_factor", "max_consecutive_nonfinite", "eval_data",
    "synthetic_eval_pairs", "attn_implementation", "per_device_batch_size", "gradient_accumulation_steps"})


def config_differences(saved: dict, current: dict) -> list[str]:
    """'key (saved -> current)' for every key that differs and is not resume-safe."""
    keys = sorted((set(saved) | set(current)) - RESUME_SAFE)
    return [f"{k} ({saved.get(k)!r} -> {current.get(k)!r})" for k in keys if saved.get(k) != current.get(k)]


def check_resumable(path: Path, state: TrainerState, config: dict, global_batch: int) -> None:
    changed = config_differences(state.config, config)
    if state.global_batch and state.global_batch != global_batch:
        changed.append(f"global batch ({state.global_batch} -> {global_batch} pairs = per_device_batch_size x "
                       "gradient_accumulation_steps x processes)")
    if changed:
        raise ConfigError(f"resume_from: {path} was written by a run with another config: {'; '.join(changed)}. "
                          "Resume with the config it was written with, or start a new run (another output_dir, "
                          "or overwrite: true)")


def restore(accelerator, path: Path, model, *, lora: bool) -> None:
    """Weights into `model` (the unwrapped model; under FSDP accelerate loads the shards), then optimiser,
    scheduler and this rank's RNG through `accelerator.load_state`."""
    if not is_fsdp(accelerator):
        load_weights(path, model, lora=lora)
    accelerator.load_state(str(path / ACCELERATE_DIR))


def load_weights(path: Path, model, *, lora: bool) -> None:
    if hasattr(model, "load_head"):  # a reward model: its value head, then the backbone as below
        model.load_head(path)
        model = model.backbone
    if lora:
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, load_file(str(path / "adapter_model.safetensors")))
        return
    saved: dict[str, torch.Tensor] = {}
    for file in sorted(path.glob("*.safetensors")):
        if file.name != "value_head.safetensors":
            saved.update(load_file(str(file)))
    missing, unexpected = model.load_state_dict(saved, strict=False)
    missing = [k for k in missing if not _tied(model, k, saved)]
    if missing or unexpected:
        example = (missing or unexpected)[0]
        raise MMAlignError(f"{path}: checkpoint does not match the model ({len(missing)} missing, "
                           f"{len(unexpected)} unexpected keys, e.g. {example})")


def _tied(model, key: str, saved: dict) -> bool:
    """A parameter left out of the file because it is the same tensor as one that is in it (tied
    embeddings): loading that one loaded it too."""
    state = model.state_dict()
    ptr = state[key].data_ptr()
    return any(name in saved and state[name].data_ptr() == ptr for name in state if name != key)
