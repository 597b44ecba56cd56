"""FSDP's layer classes, narrowed to those the model has.

configs/accelerate/fsdp2.yaml lists the decoder and vision layer classes of every family mmalign trains
(LlamaDecoderLayer, Qwen2DecoderLayer, CLIPEncoderLayer, ...) so that one file serves them all. accelerate
refuses a list naming any class the model lacks ("Could not find the transformer layer class
Qwen2DecoderLayer in the model", seen on an H200 with a LLaVA-1.5 model), so before `prepare` the list
keeps only the classes found; with none found, accelerate falls back to the model's `_no_split_modules`.
"""

from __future__ import annotations

def narrow_wrap_classes(fsdp_plugin, model) -> list[str] | None:
    """Drop the names in `fsdp_plugin.transformer_cls_names_to_wrap` that are not module classes of `model`
    (in place on the plugin, which accelerate built for this run). Returns the names kept (None: accelerate
    uses the model's `_no_split_modules`)."""
    names = getattr(fsdp_plugin, "transformer_cls_names_to_wrap", None)
    if fsdp_plugin is None or not names:
        return names
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    present = {type(m).__name__ for m in model.modules()}  # accelerate matches classes by name too
    kept = [n for n in names if n in present]
    fsdp_plugin.transformer_cls_names_to_wrap = kept or None
    return fsdp_plugin.transformer_cls_names_to_wrap
