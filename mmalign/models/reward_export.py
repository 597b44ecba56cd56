"""Text reward models in the layout `AutoModelForSequenceClassification.from_pretrained` loads.

The backbone's decoder weights (LoRA merged in) become the classifier's `model.*` weights and the value head
its `score.weight`; the config gets `num_labels: 1` and the tokenizer's pad id. transformers pools the score at
each row's last token that is not `pad_token_id`, which on right-padded rows is the answer's last token: the
token mmalign's value head reads (a test checks the scores agree). Vision families have no such class in
transformers; they keep the backbone + `value_head.safetensors` layout (`value_head.py`).
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from ..errors import MMAlignError
from .families import unwrap_model


def merged_state(backbone) -> dict[str, torch.Tensor]:
    """The backbone's weights under their plain names, LoRA deltas added (the model itself is left as it is,
    so that training can go on after a checkpoint)."""
    if not hasattr(backbone, "get_base_model"):
        return dict(backbone.state_dict())
    from peft.tuners.lora import LoraLayer

    base = backbone.get_base_model()
    deltas: dict[str, torch.Tensor] = {}
    for name, module in base.named_modules():
        if isinstance(module, LoraLayer):
            for adapter in module.active_adapters:
                delta = module.get_delta_weight(adapter).detach()
                deltas[f"{name}.weight"] = deltas[f"{name}.weight"] + delta if f"{name}.weight" in deltas else delta
    state = {}
    for key, value in base.state_dict().items():
        if ".lora_" in key:
            continue
        key = key.replace(".base_layer.", ".")
        state[key] = value + deltas[key].to(value.dtype) if key in deltas else value
    return state


def export_sequence_classification(folder: str | Path, backbone, head_weight: torch.Tensor,
                                   pad_token_id: int | None) -> None:
    """Write `backbone` + the value head as XForSequenceClassification (num_labels 1) into `folder`."""
    from transformers import AutoModelForSequenceClassification

    if pad_token_id is None:
        raise MMAlignError("a text reward model needs a tokenizer with a pad token (sequence classification "
                           "finds each row's last token by it)")
    config = copy.deepcopy(unwrap_model(backbone).config)
    config.num_labels = 1
    config.pad_token_id = int(pad_token_id)
    config.architectures = None
    try:
        with torch.device("meta"):  # no second copy of the weights: the real tensors are assigned below
            classifier = AutoModelForSequenceClassification.from_config(config)
    except ValueError as exc:
        raise MMAlignError(f"transformers has no sequence-classification class for {config.model_type!r}: "
                           f"{exc}") from None
    state = {key: value for key, value in merged_state(backbone).items()
             if key.split(".", 1)[0] == classifier.base_model_prefix}
    state["score.weight"] = head_weight.detach().to(next(iter(state.values())).dtype)
    missing, unexpected = classifier.load_state_dict(state, strict=False, assign=True)
    missing = [k for k in missing if not k.endswith("inv_freq")]
    if missing or unexpected:
        raise MMAlignError(f"cannot export as {type(classifier).__name__}: missing {missing[:3]}, "
                           f"unexpected {unexpected[:3]}")
    classifier.save_pretrained(folder)
