"""Which scoring backend a run uses, decided once at setup and written to config.yaml with its reason.

- `packed`: every answer of a micro-batch in one ordinary forward, one row per prompt with its answers
  side by side and a block attention mask (`packed.py`, `answer_pack.py`). The default wherever it can be
  expressed: gradient checkpointing, DDP/FSDP wrappers and LoRA see one plain model call.
- `concatenated`: context + answer glued once per answer (TRL's layout, `concatenated.py`); the reference
  the exactness tests compare against, and the fallback where packing cannot be expressed.

The trainer and `mmalign train --dry-run` both call `choose_backend`; nothing re-decides it per batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..models.families import unwrap_model

BACKENDS = ("auto", "packed", "concatenated")
PACKED_FAMILIES = ("llava", "qwen2_vl", "text")
# Attention implementations that take a 4D mask as it is (None: the transformers default, SDPA).
MASK_ATTENTION = (None, "eager", "sdpa")


@dataclass(frozen=True)
class ScoringBackend:
    name: str  # "packed" or "concatenated"
    reason: str


def decoder_config(model):
    """The language model's config (the text config of a vision model), under PEFT / DDP wrappers."""
    cfg = unwrap_model(model).config
    return cfg.get_text_config(decoder=True) if hasattr(cfg, "get_text_config") else cfg


def packing_obstacle(family: str, text_config) -> str | None:
    """Why this model cannot score packed rows, or None when it can."""
    if family not in PACKED_FAMILIES:
        return f"the {family!r} family has no packed scoring"
    types = getattr(text_config, "layer_types", None)
    if types is not None and any(t != "full_attention" for t in types):
        return "the decoder has sliding-window or hybrid attention layers, which a block mask does not express"
    if types is None and getattr(text_config, "sliding_window", None) and getattr(text_config, "use_sliding_window",
                                                                                     True):
        return "the decoder uses sliding-window attention, which a block mask does not express"
    impl = getattr(text_config, "_attn_implementation", None)
    if impl not in MASK_ATTENTION:
        return f"attn_implementation {impl!r} takes no arbitrary attention mask (use sdpa or eager)"
    return None


def choose_backend(requested: str, family: str, text_config) -> ScoringBackend:
    """The backend for a run: `requested` is the config's `scoring_backend` (auto, packed, concatenated)."""
    if requested not in BACKENDS:
        raise ConfigError(f"scoring_backend: must be one of {list(BACKENDS)}, got {requested!r}")
    if requested == "concatenated":
        return ScoringBackend("concatenated", "scoring_backend: concatenated was asked for")
    obstacle = packing_obstacle(family, text_config)
    if obstacle is not None:
        if requested == "packed":
            raise ConfigError(f"scoring_backend: packed is not possible for this run: {obstacle}; use auto or "
                              "concatenated")
        return ScoringBackend("concatenated", obstacle)
    impl = getattr(text_config, "_attn_implementation", None) or "sdpa"
    return ScoringBackend("packed", f"{family} decoder with full attention ({impl}): each context and its media "
                                    "once, all its answers in the same forward under a block mask")
