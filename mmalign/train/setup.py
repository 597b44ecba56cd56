"""Turning a TrainConfig into things the trainer uses: model path, data files, policy, reference."""

from __future__ import annotations

from pathlib import Path

import torch

from ..data.synth import write_llava_instructions, write_preference_pairs, write_text_pairs
from ..data.synth.video import write_video_dataset
from ..errors import ConfigError
from ..models.lora import apply_lora
from ..models.tiny_registry import TINY_BUILDERS
from .config import TrainConfig
from .reference import AdapterDisabled, FrozenCopy


def resolve_model_path(cfg: TrainConfig, output_dir: Path) -> str:
    """Tiny names are built into OUTPUT_DIR/base-model (once) so every checkpoint has a real base path."""
    if cfg.model in TINY_BUILDERS:
        path = output_dir / "base-model"
        if not (path / "config.json").is_file():
            TINY_BUILDERS[cfg.model](path, seed=cfg.seed)
        return str(path)
    return cfg.model


SYNTHETIC = {"synthetic": write_preference_pairs, "synthetic-text": write_text_pairs,
             "synthetic-video": write_video_dataset}


def _synthetic(kind: str, folder: Path, name: str, seed: int, count: int) -> Path:
    path = folder / name
    if not path.is_file():
        SYNTHETIC[kind](folder, seed=seed, count=count, name=name)
    return path


def resolve_data(cfg: TrainConfig, output_dir: Path) -> tuple[Path, Path, Path | None]:
    """(train file, media root, eval file or None). 'synthetic' / 'synthetic-text' write the synthetic
    world's pairs under OUTPUT_DIR/data; the held-out split uses another seed, so other scenes."""
    if not cfg.data:
        raise ConfigError("data: no training data given (a JSONL file, 'synthetic' or 'synthetic-text')")
    synth_dir = output_dir / "data"
    if cfg.data_format == "llava":
        return _llava_data(cfg, synth_dir), (synth_dir if cfg.data == "synthetic" else
                                             Path(cfg.root) if cfg.root else Path(cfg.data).parent), None
    if cfg.data in SYNTHETIC:
        train = _synthetic(cfg.data, synth_dir, "train.jsonl", cfg.seed, cfg.synthetic_pairs)
        root = synth_dir
    else:
        train = Path(cfg.data)
        root = Path(cfg.root) if cfg.root else train.parent
    eval_file = None
    if cfg.eval_data in SYNTHETIC:
        eval_file = _synthetic(cfg.eval_data, synth_dir, "heldout.jsonl", cfg.seed + 10_000,
                               cfg.synthetic_eval_pairs)
    elif cfg.eval_data:
        eval_file = Path(cfg.eval_data)
    return train, root, eval_file


def extra_data_files(cfg: TrainConfig) -> list[Path]:
    """The `extra_data` files, which must exist; the trainer reads them like `data`."""
    missing = [path for path in cfg.extra_data if not Path(path).is_file()]
    if missing:
        raise ConfigError(f"extra_data: {missing[0]}: no such file")
    return [Path(path) for path in cfg.extra_data]


def _llava_data(cfg: TrainConfig, synth_dir: Path) -> Path:
    """LLaVA-format instructions (a file, or 'synthetic') converted to SFT records under OUTPUT_DIR/data."""
    from .sft_data import llava_to_records

    if cfg.data == "synthetic":
        source = synth_dir / "llava.json"
        if not source.is_file():
            write_llava_instructions(synth_dir, seed=cfg.seed, count=cfg.synthetic_pairs, name="llava.json")
        root = synth_dir
    else:
        source = Path(cfg.data)
        root = Path(cfg.root) if cfg.root else source.parent
    return llava_to_records(source, root, synth_dir / "sft.jsonl", cfg.on_bad_record)


def freeze_modules(model, adapter, cfg: TrainConfig) -> None:
    prefixes = (adapter.vision_prefixes if cfg.freeze_vision_tower else ()) + (
        adapter.projector_prefixes if cfg.freeze_projector else ()) + (
        adapter.language_prefixes if cfg.freeze_language_model else ())
    for name, p in model.named_parameters():
        if prefixes and name.startswith(prefixes):
            p.requires_grad_(False)


def build_policy_and_reference(model, adapter, cfg: TrainConfig):
    """Freeze what should not train, wrap LoRA, and pick the matching reference (None for a reward model)."""
    if cfg.freeze_language_model and (cfg.lora.enabled or not adapter.language_prefixes):
        why = "LoRA already leaves the language model's weights frozen" if cfg.lora.enabled else (
            f"the {adapter.family} family has no separate language model to freeze")
        raise ConfigError(f"freeze_language_model: {why}")
    if cfg.lora.enabled:
        model = apply_lora(model, adapter, cfg.lora)
        reference = AdapterDisabled() if cfg.head == "lm" else None
    else:
        freeze_modules(model, adapter, cfg)
        reference = FrozenCopy(model) if cfg.head == "lm" else None  # a reward model has no reference
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if hasattr(model, "enable_input_require_grads"):
            model.enable_input_require_grads()
    model.config.use_cache = False
    return model, reference


def count_parameters(model) -> tuple[int, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable


def check_precision(precision: str) -> str:
    """Map the config's precision to accelerate's mixed_precision, refusing what the device lacks."""
    if precision == "fp16" and not torch.cuda.is_available():
        raise ConfigError("precision: fp16 autocast needs a CUDA device; use bf16 or fp32 on a CPU")
    return {"fp32": "no", "bf16": "bf16", "fp16": "fp16"}[precision]
