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

    def final_norm(self, model) -> torch.nn.Module:
        """The module whose output is the last hidden state, the output head's input."""
        raise NotImplementedError

    # -- scoring: what the packed and concatenated layouts need to know about a family ----------------
    @property
    def media_token_ids(self) -> tuple[int, ...]:
        """Placeholder tokens that become media embeddings: never scored as text."""
        return ()

    def context_positions(self, model, ids: torch.Tensor, mask: torch.Tensor, token_types: dict[str, torch.Tensor],
                          media: dict[str, Any]) -> torch.Tensor:
        """Position ids of left-padded contexts [C, P] as the model numbers them with the padding stripped
        (pads get 0): `cumsum(mask) - 1` for ordinary decoders; [3, C, P] for M-RoPE families."""
        return (mask.long().cumsum(1) - 1).clamp(min=0)

    # -- frozen vision, computed once per micro-batch for policy and reference (train/features.py) ----
    caches_tower_states: ClassVar[bool] = False  # the projector runs apart from the tower (LLaVA)

    def encode_media(self, model, media: dict[str, Any]) -> dict[str, Any] | None:
        """The projected media features as the model's `mm_encoder_outputs`, None without media."""
        return None

    def tower_states(self, model, media: dict[str, Any]) -> dict[str, Any] | None:
        """The tower's output before the projector (families with `caches_tower_states`)."""
        return None

    def project_tower_states(self, model, cached: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} does not cache tower states")

    def select_media(self, media: dict[str, Any], ids: torch.Tensor, rows: torch.Tensor) -> dict[str, Any]:
        """The media of context rows `rows` (repeats allowed) out of `media`, which holds the media of every
        row of `ids` in order: for layouts that repeat a context once per answer."""
        if media:
            raise NotImplementedError(f"{type(self).__name__} cannot select media per context")
        return {}


def items_per_row(ids: torch.Tensor, token_id: int, item_tokens: list[int]) -> list[list[int]]:
    """Which media items each row holds: items are numbered in order over the rows, item i expands to
    `item_tokens[i]` placeholder tokens, and a row holds as many items as its placeholders add up to."""
    counts = (ids == token_id).sum(1).tolist()
    rows, item = [], 0
    for row, need in enumerate(counts):
        mine = []
        while need > 0:
            if item >= len(item_tokens) or item_tokens[item] > need:
                raise ValueError(f"row {row}: {counts[row]} placeholder tokens do not match the media given")
            mine.append(item)
            need -= item_tokens[item]
            item += 1
        rows.append(mine)
    if item != len(item_tokens):
        raise ValueError(f"{len(item_tokens) - item} media items have no placeholder tokens")
    return rows


def take_items(values: torch.Tensor, sizes: list[int], picks: list[int]) -> torch.Tensor:
    """Concatenate chunks `picks` of `values`, which is the concatenation of chunks of `sizes` rows."""
    starts = [0]
    for n in sizes:
        starts.append(starts[-1] + n)
    if not picks:
        return values[:0]
    return torch.cat([values[starts[i]:starts[i + 1]] for i in picks])
