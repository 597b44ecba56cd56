"""The model adapter: the one place that knows a model family.

Everything else in mmalign (collator, trainer, selectors) talks to a family through this interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch


@dataclass(frozen=True)
class Span:
    """One image's tokens in a sequence: positions [start, end) and the token grid (rows, cols)."""

    start: int
    end: int
    grid_hw: tuple[int, int]

    @property
    def length(self) -> int:
        return self.end - self.start


def token_runs(ids: torch.Tensor, token_id: int) -> list[tuple[int, int]]:
    """Maximal runs [start, end) of `token_id` in a 1-D id tensor."""
    hit = (ids == token_id).to(torch.int8)
    if not bool(hit.any()):
        return []
    edges = torch.diff(torch.cat([hit.new_zeros(1), hit, hit.new_zeros(1)]))
    starts = (edges == 1).nonzero().flatten().tolist()
    ends = (edges == -1).nonzero().flatten().tolist()
    return list(zip(starts, ends))


class ModelAdapter:
    """Family facts. Subclasses set the class attributes and override what differs."""

    family: ClassVar[str] = "base"
    is_vision: ClassVar[bool] = True
    # Processor outputs that describe media, stacked along dim 0 per image/video (never per token).
    media_keys: ClassVar[tuple[str, ...]] = ()
    # Processor outputs that are per token and must follow input_ids when sequences are rebuilt.
    token_keys: ClassVar[tuple[str, ...]] = ()
    # Module name prefixes of the vision tower and the projector (frozen by default).
    vision_prefixes: ClassVar[tuple[str, ...]] = ()
    projector_prefixes: ClassVar[tuple[str, ...]] = ()
    # ... and of the language model with its output head (frozen only in projector alignment, LLaVA's stage 1).
    language_prefixes: ClassVar[tuple[str, ...]] = ()
    # Decoder linear layers LoRA targets by default.
    lora_targets: ClassVar[tuple[str, ...]] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                               "up_proj", "down_proj")

    def __init__(self, config: Any, processor: Any):
        self.config = config
        self.processor = processor

    @property
    def tokenizer(self):
        return getattr(self.processor, "tokenizer", self.processor)

    @property
    def image_token_id(self) -> int | None:
        return None

    def image_spans(self, batch: dict[str, torch.Tensor]) -> list[list[Span]]:
        """For each sample, each image's token positions and token grid."""
        return [[] for _ in range(batch["input_ids"].shape[0])]

    def media_inputs(self, encoded: dict[str, Any]) -> dict[str, Any]:
        return {k: encoded[k] for k in self.media_keys if k in encoded}

    def decoder_layers(self, model) -> torch.nn.ModuleList:
        """The language model's decoder layers (for attention probes and checkpointing)."""
        raise NotImplementedError
