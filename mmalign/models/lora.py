"""LoRA through peft, on the language model's projections only (vision tower and projector stay frozen)."""

from __future__ import annotations

import re

from peft import LoraConfig as PeftLoraConfig
from peft import get_peft_model


def lora_target_regex(model, adapter, names: list[str]) -> str:
    """A regex matching the named linear layers inside the language model only.

    LLaVA's vision tower also has q_proj/k_proj/..., so plain names would adapt it too.
    """
    names = names or list(adapter.lora_targets)
    vision = adapter.vision_prefixes + adapter.projector_prefixes
    keep = []
    for name, _ in model.named_modules():
        if name.split(".")[-1] in names and not (vision and name.startswith(vision)):
            keep.append(re.escape(name))
    if not keep:
        raise ValueError(f"no module named any of {names} in the language model")
    return "^(" + "|".join(keep) + ")$"


def apply_lora(model, adapter, cfg):
    config = PeftLoraConfig(
        r=cfg.r, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout,
        target_modules=lora_target_regex(model, adapter, cfg.target_modules), bias="none",
    )
    return get_peft_model(model, config)
