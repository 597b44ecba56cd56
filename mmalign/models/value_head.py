"""A value head on any family's backbone: the final hidden state at an answer's last token -> one score.

    model = ValueModel.around(backbone, seed=0)      # backbone: any loaded model, LoRA-wrapped or not
    model(**inputs)                                  # the backbone's own forward (the scoring core runs it)
    model.values(hidden)                             # [N, H] last-token hidden states -> [N] scores (float32)

The head lives beside the backbone instead of inside it, so the scoring core, PEFT, DDP and checkpointing see
the ordinary model; `get_base_model` lets `families.unwrap_model` reach the backbone through the wrapper.

Saved layout (`save_pretrained`, every family): the backbone as `save_pretrained` writes it (full weights or a
PEFT adapter) plus `value_head.safetensors` (`weight` [1, H]) and `value_head.json` naming the head. Text
reward models are also exported in the layout `AutoModelForSequenceClassification` loads
(`reward_export.py`).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..errors import MMAlignError
from .families import ADAPTERS, unwrap_model

HEAD_WEIGHTS = "value_head.safetensors"
HEAD_CONFIG = "value_head.json"
HEAD_FORMAT = "mmalign-value-head"


def text_config(model):
    config = unwrap_model(model).config
    return config.get_text_config(decoder=True) if hasattr(config, "get_text_config") else config


class ValueModel(torch.nn.Module):
    """A backbone and a linear value head (no bias: Bradley-Terry losses see only score differences)."""

    def __init__(self, backbone: torch.nn.Module, head: torch.nn.Linear):
        super().__init__()
        self.backbone = backbone
        self.value_head = head

    @classmethod
    def around(cls, backbone, seed: int = 0) -> ValueModel:
        """`backbone` with a new head, initialised like transformers' sequence-classification heads
        (normal, std = the config's initializer_range), seeded so that runs repeat."""
        config = text_config(backbone)
        head = torch.nn.Linear(config.hidden_size, 1, bias=False)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            head.weight.normal_(0.0, getattr(config, "initializer_range", 0.02), generator=generator)
        dtype = next(backbone.parameters()).dtype
        return cls(backbone, head.to(dtype=dtype, device=next(backbone.parameters()).device))

    @property
    def config(self):
        return unwrap_model(self.backbone).config

    def get_base_model(self):
        return self.backbone

    def forward(self, *args, **kwargs):
        return self.backbone(*args, **kwargs)

    def values(self, hidden: torch.Tensor) -> torch.Tensor:
        """[N, H] final hidden states at each answer's last token -> [N] scores (float32)."""
        return self.value_head(hidden.to(self.value_head.weight.dtype)).squeeze(-1).float()

    def save_pretrained(self, path: str | Path, **kwargs) -> None:
        self.backbone.save_pretrained(path, **kwargs)
        save_head(Path(path), self.value_head.weight)

    def export_pretrained(self, path: str | Path, processor) -> None:
        """The final, shareable form: text families as sequence classification (`reward_export.py`), vision
        families as `save_pretrained` writes them."""
        if self.config.model_type in ADAPTERS:
            self.save_pretrained(path)
            return
        from .reward_export import export_sequence_classification

        pad = getattr(getattr(processor, "tokenizer", processor), "pad_token_id", None)
        export_sequence_classification(path, self.backbone, self.value_head.weight, pad)

    def load_head(self, path: str | Path) -> None:
        weight, _ = read_head(Path(path))
        with torch.no_grad():
            self.value_head.weight.copy_(weight)


def value_model_of(model) -> ValueModel:
    """The ValueModel under DDP / accelerate wrappers."""
    while not isinstance(model, ValueModel):
        inner = getattr(model, "module", None)
        if not isinstance(inner, torch.nn.Module):
            raise TypeError(f"{type(model).__name__} holds no value head")
        model = inner
    return model


def freeze_output_head(model) -> None:
    """A reward model never reads the language-model head; freeze it (unless tied to the input embeddings,
    which do train), so that DDP finds no trainable parameter without a gradient."""
    inner = unwrap_model(model)
    out, emb = inner.get_output_embeddings(), inner.get_input_embeddings()
    if out is not None and (emb is None or out.weight is not emb.weight):
        out.weight.requires_grad_(False)


def save_head(folder: Path, weight: torch.Tensor) -> None:
    from safetensors.torch import save_file

    save_file({"weight": weight.detach().float().cpu().contiguous()}, str(folder / HEAD_WEIGHTS))
    meta = {"format": HEAD_FORMAT, "weights": HEAD_WEIGHTS, "hidden_size": int(weight.shape[-1]),
            "input": "final hidden state (after the last norm) at the answer's last token",
            "bias": False}
    (folder / HEAD_CONFIG).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def read_head(folder: Path) -> tuple[torch.Tensor, dict]:
    """(weight [1, H], the head's JSON) of a saved value head; a clear error when it is missing or odd."""
    from safetensors.torch import load_file

    try:
        meta = json.loads((folder / HEAD_CONFIG).read_text(encoding="utf-8"))
        weight = load_file(str(folder / meta.get("weights", HEAD_WEIGHTS)))["weight"]
    except (OSError, ValueError, KeyError) as exc:
        raise MMAlignError(f"{folder}: cannot read the value head ({HEAD_CONFIG}, {HEAD_WEIGHTS}): {exc}") from None
    if meta.get("format") != HEAD_FORMAT or weight.dim() != 2 or weight.shape[0] != 1:
        raise MMAlignError(f"{folder / HEAD_CONFIG}: not an mmalign value head (format {meta.get('format')!r}, "
                           f"weight shape {tuple(weight.shape)})")
    return weight, meta
