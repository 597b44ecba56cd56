"""Load a model, its processor and its family adapter by name or path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForImageTextToText,
    AutoProcessor,
    AutoTokenizer,
)
from transformers.utils import logging as hf_logging

from ..errors import MMAlignError
from .adapter import ModelAdapter
from .families import ADAPTERS, adapter_for

hf_logging.disable_progress_bar()

DTYPES = {"fp32": torch.float32, "float32": torch.float32, "bf16": torch.bfloat16,
          "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16}


@dataclass
class Loaded:
    model: Any
    processor: Any
    adapter: ModelAdapter


def load_processor(name_or_path: str | Path, vision: bool):
    if vision:
        return AutoProcessor.from_pretrained(str(name_or_path))
    tok = AutoTokenizer.from_pretrained(str(name_or_path))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load(name_or_path: str | Path, *, dtype: str | torch.dtype | None = None, device: str | None = None,
         attn_implementation: str | None = None) -> Loaded:
    """Load `name_or_path` (a local folder or a hub name) with its processor and adapter.
    `attn_implementation` (sdpa, eager, ...) is passed to from_pretrained when given.

    Vision families (see `families.ADAPTERS`) load through AutoModelForImageTextToText and
    AutoProcessor; anything else through AutoModelForCausalLM and AutoTokenizer.
    """
    name = str(name_or_path)
    if (Path(name) / "adapter_config.json").is_file():
        return _load_adapter(Path(name), dtype=dtype, device=device, attn_implementation=attn_implementation)
    try:
        config = AutoConfig.from_pretrained(name)
    except OSError as exc:
        raise MMAlignError(f"cannot load model {name!r}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") \
            from None
    vision = getattr(config, "model_type", "") in ADAPTERS
    torch_dtype = DTYPES[dtype] if isinstance(dtype, str) else dtype
    kwargs: dict[str, Any] = {"dtype": torch_dtype} if torch_dtype is not None else {}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    cls = AutoModelForImageTextToText if vision else AutoModelForCausalLM
    model = cls.from_pretrained(name, **kwargs)
    processor = load_processor(name, vision)
    if device is not None:
        model.to(device)
    return Loaded(model, processor, adapter_for(model.config, processor))


def _load_adapter(folder: Path, *, dtype, device, attn_implementation=None) -> Loaded:
    """A LoRA folder written by `mmalign train`: its base, the adapter merged in, the saved processor."""
    import json

    from peft import PeftModel

    base_path = json.loads((folder / "adapter_config.json").read_text()).get("base_model_name_or_path")
    if not base_path:
        raise MMAlignError(f"{folder}/adapter_config.json names no base model")
    base = load(base_path, dtype=dtype, attn_implementation=attn_implementation)
    model = PeftModel.from_pretrained(base.model, str(folder)).merge_and_unload()
    processor = load_processor(folder, base.adapter.is_vision)
    if device is not None:
        model.to(device)
    return Loaded(model, processor, adapter_for(model.config, processor))
