"""`mmalign train CONFIG --dry-run`: check a config and estimate memory without downloading weights.

The model is built from its config.json on the meta device (no memory, no weights). The real 7B models'
config.json and processor configs ship in assets/model_configs/ so this works offline; tokenizer files
are not shipped, so image-token counts come from the processor/vision configs (the same arithmetic the
Hugging Face processors do), and text lengths are given as flags.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..errors import ConfigError
from .backend import choose_backend
from .config import TrainConfig
from .memory import ENGINES, Estimate, Shapes, Workload, estimate

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "model_configs"
# Hub names whose configs ship with mmalign (the folder name works too).
KNOWN_MODELS = {
    "llava-hf/llava-1.5-7b-hf": "llava-1.5-7b",
    "llava-hf/llava-onevision-qwen2-7b-ov-hf": "llava-onevision-7b",
    "Qwen/Qwen2.5-VL-7B-Instruct": "qwen2.5-vl-7b",
    "Qwen/Qwen2-VL-7B-Instruct": "qwen2-vl-7b",
}
# Frozen-by-default prefixes for families without a training adapter yet (dry run only).
EXTRA_PREFIXES = {"llava_onevision": (("model.vision_tower",), ("model.multi_modal_projector",),
                                      ("model.image_newline",))}


@dataclass
class DryRun:
    model: str
    model_dir: str
    model_type: str
    total_params: int
    trainable_params: int
    vision_params: int
    projector_params: int
    lora_params: int
    image_tokens: int              # per image
    video_tokens: int              # per video (0 when no frames)
    media_tokens: int              # per sample: images x image_tokens + video_tokens
    text_tokens: int               # per sample: prompt + answer (given as flags)
    tokens_per_sample: int
    shapes: Shapes
    workload: Workload
    memory: Estimate
    notes: list[str] = field(default_factory=list)
    scoring_backend: str = ""
    scoring_backend_reason: str = ""


def resolve_model_dir(model: str, tmp: Path) -> Path:
    from ..models.tiny_registry import TINY_BUILDERS

    if model in TINY_BUILDERS:
        path = tmp / "tiny"
        TINY_BUILDERS[model](path, seed=0)
        return path
    name = KNOWN_MODELS.get(model, model)
    for candidate in (ASSETS / name, Path(model)):
        if (candidate / "config.json").is_file():
            return candidate
    raise ConfigError(f"model: {model!r} has no config.json offline; shipped: "
                      f"{', '.join(sorted(KNOWN_MODELS))} (or a local folder with config.json)")


def _json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def image_tokens(model_dir: Path, config, size: int) -> int:
    """Tokens one `size` x `size` image becomes in the language model, as the family's processor counts."""
    kind = config.model_type
    proc = _json(model_dir / "processor_config.json")
    if kind == "llava":
        pre = _json(model_dir / "preprocessor_config.json")
        crop = pre.get("crop_size", {"height": config.vision_config.image_size})
        patch = proc.get("patch_size", config.vision_config.patch_size)
        n = (crop["height"] // patch) * (crop.get("width", crop["height"]) // patch)
        n += proc.get("num_additional_image_tokens", 0)
        return n - (1 if config.vision_feature_select_strategy == "default" and
                    proc.get("num_additional_image_tokens", 0) else 0)
    if kind in ("qwen2_vl", "qwen2_5_vl"):
        from transformers import AutoImageProcessor

        ip = AutoImageProcessor.from_pretrained(str(model_dir))
        return ip.get_number_of_image_patches(size, size, {}) // ip.merge_size ** 2
    if kind == "llava_onevision":
        from transformers import AutoImageProcessor, LlavaOnevisionProcessor

        proc_obj = LlavaOnevisionProcessor.__new__(LlavaOnevisionProcessor)  # no tokenizer needed for counting
        proc_obj.image_processor = AutoImageProcessor.from_pretrained(str(model_dir))
        proc_obj.num_image_tokens = proc.get("num_image_tokens", 729)
        proc_obj.vision_aspect_ratio = proc.get("vision_aspect_ratio", "anyres_max_9")
        proc_obj.vision_feature_select_strategy = proc.get("vision_feature_select_strategy", "full")
        tile = config.vision_config.image_size
        return proc_obj._get_number_of_features(size, size, tile, tile)
    raise ConfigError(f"model_type {kind!r}: no image-token rule; dry run supports llava, llava_onevision, "
                      f"qwen2_vl, qwen2_5_vl")


def video_tokens(model_dir: Path, config, frames: int, size: int) -> int:
    if frames <= 0:
        return 0
    kind = config.model_type
    if kind == "llava_onevision":
        per = math.ceil(math.isqrt(_json(model_dir / "processor_config.json").get("num_image_tokens", 729)) / 2)
        return frames * per * per + 1  # 2x2-pooled frames plus one newline token, as the processor counts
    if kind in ("qwen2_vl", "qwen2_5_vl"):
        t = config.vision_config.temporal_patch_size
        return math.ceil(frames / t) * image_tokens(model_dir, config, size)
    return frames * image_tokens(model_dir, config, size)


def _prefixes(kind: str):
    from ..models.families import ADAPTERS

    if kind in ADAPTERS:
        cls = ADAPTERS[kind]
        return cls.vision_prefixes, cls.projector_prefixes, cls.lora_targets
    if kind in EXTRA_PREFIXES:
        vision, projector, _ = EXTRA_PREFIXES[kind]
        from ..models.adapter import ModelAdapter

        return vision, projector, ModelAdapter.lora_targets
    return (), (), ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def shapes_of(config, total: int, trainable: int) -> Shapes:
    text = config.get_text_config()
    heads = text.num_attention_heads
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // heads
    kv = getattr(text, "num_key_value_heads", None) or heads
    vision = getattr(config, "vision_config", None)
    return Shapes(total, trainable, text.num_hidden_layers, text.hidden_size, text.intermediate_size,
                  kv * head_dim, text.vocab_size,
                  vision_layers=getattr(vision, "num_hidden_layers", None) or getattr(vision, "depth", 0) or 0,
                  vision_hidden=getattr(vision, "hidden_size", 0) or 0,
                  vision_intermediate=getattr(vision, "intermediate_size", 0) or 0)


def dry_run(cfg: TrainConfig, *, engine: str = "ddp", devices: int = 1, images: int = 1, frames: int = 0,
            image_size: int = 0, prompt_tokens: int = 64, answer_tokens: int = 128) -> DryRun:
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForImageTextToText

    from ..losses import build_loss_from_config

    if engine not in ENGINES:
        raise ConfigError(f"--engine {engine!r}: choose one of {', '.join(ENGINES)}")
    loss = build_loss_from_config(cfg.loss)
    needs = loss.needs
    refusal = _refusal(cfg, loss, engine)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = resolve_model_dir(cfg.model, Path(tmp))
        trust = cfg.trust_remote_code  # as the training run would load it: shipped code runs only when allowed
        try:
            config = AutoConfig.from_pretrained(str(model_dir), trust_remote_code=trust)
        except ValueError as exc:
            if "trust_remote_code" not in str(exc):
                raise
            raise ConfigError(f"model {cfg.model!r} ships its own Python code (config.json's auto_map): set "
                              "trust_remote_code: true only for a model whose code you have read") from None
        vision_cfg = getattr(config, "vision_config", None)
        with torch.device("meta"):
            auto = AutoModelForImageTextToText if vision_cfg is not None else AutoModelForCausalLM
            model = auto.from_config(config, trust_remote_code=trust)
        kind = config.model_type
        vision_p, projector_p, targets = _prefixes(kind)
        size = image_size or getattr(vision_cfg, "image_size", 0) or 448
        per_image = image_tokens(model_dir, config, size) if vision_cfg is not None and images else 0
        per_video = video_tokens(model_dir, config, frames, size) if vision_cfg is not None else 0
        if cfg.model.startswith("tiny"):
            model_dir = Path(cfg.model)

    named = list(model.named_parameters())
    total = sum(p.numel() for _, p in named)
    vision = sum(p.numel() for n, p in named if vision_p and n.startswith(vision_p))
    projector = sum(p.numel() for n, p in named if projector_p and n.startswith(projector_p))
    lora = 0
    if cfg.lora.enabled:
        names = set(cfg.lora.target_modules or targets)
        frozen_p = vision_p + projector_p
        for name, module in model.named_modules():
            if (isinstance(module, torch.nn.Linear) and name.split(".")[-1] in names
                    and not (frozen_p and name.startswith(frozen_p))):
                lora += cfg.lora.r * (module.in_features + module.out_features)
        trainable = lora
        total += lora
    else:
        trainable = total - (vision if cfg.freeze_vision_tower else 0) - (projector if cfg.freeze_projector else 0)

    media = images * per_image + per_video
    tokens = media + prompt_tokens + answer_tokens
    notes = [refusal] if refusal else []
    if tokens > cfg.max_length:
        notes.append(f"a sample of {tokens} tokens exceeds max_length={cfg.max_length}: such records are bad "
                     f"records (on_bad_record={cfg.on_bad_record})")
    if kind not in _adapter_families():
        notes.append(f"{kind}: no training adapter in mmalign yet; dry run only")
    shapes = shapes_of(config, total, trainable)
    vision_trains = not cfg.lora.enabled and not cfg.freeze_vision_tower
    qwen = kind in ("qwen2_vl", "qwen2_5_vl")
    work = Workload(cfg.precision, engine, devices, 2 * cfg.per_device_batch_size, tokens, answer_tokens,
                    cfg.gradient_checkpointing,
                    reference_copy=not cfg.lora.enabled and "reference" in needs and not cfg.precompute_ref,
                    vision_trains=vision_trains,
                    vision_patches=media * (4 if qwen else 1))
    backend = choose_backend(cfg.scoring_backend, _family(kind), config.get_text_config(decoder=True))
    return DryRun(cfg.model, str(model_dir), kind, total, trainable, vision, projector, lora, per_image,
                  per_video, media, prompt_tokens + answer_tokens, tokens, shapes, work, estimate(shapes, work), notes,
                  backend.name, backend.reason)


def _refusal(cfg: TrainConfig, loss, engine: str) -> str | None:
    """The trainer's own refusal of this config on `engine` (refusals.py), as a note, or None."""
    from .refusals import check_training_config

    try:
        check_training_config(cfg, loss, engine=engine)
    except ConfigError as exc:
        return f"REFUSED by the trainer: {exc}"
    return None


def _family(kind: str) -> str:
    """The adapter family the trainer would use for this model type (text for causal LMs)."""
    from ..models.families import ADAPTERS

    if kind in ADAPTERS:
        return ADAPTERS[kind].family
    return kind if kind in EXTRA_PREFIXES else "text"  # a vision family without an adapter is no text LM


def _adapter_families() -> set[str]:
    from ..models.families import ADAPTERS

    return set(ADAPTERS) | {"llama", "qwen2", "mistral"}


def report(d: DryRun, cfg: TrainConfig) -> str:
    w, g = d.workload, d.memory.gib()
    lora = f"LoRA r={cfg.lora.r} alpha={cfg.lora.alpha}" if cfg.lora.enabled else "full fine-tuning"
    share = 100 * d.trainable_params / d.total_params
    batch = cfg.per_device_batch_size * cfg.gradient_accumulation_steps * w.devices
    lines = [
        f"model           {d.model} ({d.model_type}; config from {d.model_dir})",
        f"parameters      total {d.total_params:,}  trainable {d.trainable_params:,} ({share:.2f}%; {lora})",
        f"                vision tower {d.vision_params:,}  projector {d.projector_params:,}",
        (f"tokens/sample   {d.tokens_per_sample:,} = {d.media_tokens - d.video_tokens} image "
         f"({d.image_tokens} per image) + {d.video_tokens} video + {d.text_tokens} text "
         f"(max_length {cfg.max_length})"),
        (f"run             engine {w.engine} x {w.devices} device(s), precision {w.precision}, "
         f"micro-batch {cfg.per_device_batch_size} pairs ({w.sequences} sequences), accumulation "
         f"{cfg.gradient_accumulation_steps}, global batch {batch} pairs, "
         f"gradient checkpointing {'on' if w.gradient_checkpointing else 'off'}"),
        f"scoring         {d.scoring_backend} ({d.scoring_backend_reason})",
        "memory/device   (estimate; formulas in docs/scaling.md)",
    ]
    for key in ("weights", "reference", "gradients", "optimizer", "activations", "total"):
        lines.append(f"  {key:<13} {g[key]:8.2f} GiB")
    lines += [f"note: {n}" for n in d.notes]
    return "\n".join(lines)
