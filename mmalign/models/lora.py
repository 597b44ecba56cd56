"""LoRA through peft, on the language model's projections only (vision tower and projector stay frozen)."""

from __future__ import annotations

import re

from peft import LoraConfig as PeftLoraConfig
from peft import get_peft_model

from .load import portable_adapter_base


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
    """The model wrapped for LoRA training. The adapter's config names its base model by absolute path
    (a local base) so that the saved adapter loads from any working directory, with plain peft too."""
    config = PeftLoraConfig(
        r=cfg.r, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout,
        target_modules=lora_target_regex(model, adapter, cfg.target_modules), bias="none",
    )
    peft_model = get_peft_model(model, config)
    for peft_config in peft_model.peft_config.values():
        peft_config.base_model_name_or_path = portable_adapter_base(peft_config.base_model_name_or_path)
    return peft_model
