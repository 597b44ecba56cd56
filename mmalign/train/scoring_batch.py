"""What one scoring call scores: contexts (prompt tokens + media) and the answers that continue them.

A preference micro-batch of B records becomes

- contexts: the B prompts with their media, and where an objective scores the rejected side under
  something else, further contexts: DOVE's rejected prompt, mDPO/VDPO's altered media, the online
  PaMi-VDPO sampler's K candidate clips per record (each carrying the chosen answer);
- answers: every answer, each knowing its context (`answer_context`);
- a `PairLayout`: which answer is the chosen one of record b, and which K are its rejections
  (`rejected` is always [B, K]; K = 1 is the ordinary pair).

The collator's batch dict is turned into this once (`from_collated`); the backends (`packed.py`,
`concatenated.py`) never look at batch keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

# Keys of the collated batch that carry extra rejections of the same prompt ([B*(K-1), A], prompt-major).
LIST_IDS, LIST_MASK = "rejected_list_input_ids", "rejected_list_attention_mask"


@dataclass(frozen=True)
class ScoringBatch:
    context_ids: torch.Tensor  # [C, P] left-padded: every context ends with its last real token
    context_mask: torch.Tensor  # [C, P]
    context_tokens: dict[str, torch.Tensor]  # per-token extras [C, P] (Qwen's mm_token_type_ids)
    media: dict[str, Any]  # the model's media inputs for every context, in context order
    answer_ids: torch.Tensor  # [N, A] right-padded
    answer_mask: torch.Tensor  # [N, A]
    answer_context: torch.Tensor  # [N] the context each answer continues
    score_context: bool = False  # also score each context's text tokens (DOVE's joint preference)
    vision_cache: dict[str, Any] | None = field(default=None, compare=False)  # features.py

    @property
    def contexts(self) -> int:
        return int(self.context_ids.shape[0])

    @property
    def answers(self) -> int:
        return int(self.answer_ids.shape[0])


@dataclass(frozen=True)
class PairLayout:
    chosen: torch.Tensor  # [B] answer index of each record's chosen answer
    rejected: torch.Tensor  # [B, K] answer indices of its rejections


def left_pad(t: torch.Tensor, width: int, value) -> torch.Tensor:
    return F.pad(t, (width - t.shape[1], 0), value=value)


def right_pad(t: torch.Tensor, width: int, value) -> torch.Tensor:
    return F.pad(t, (0, width - t.shape[1]), value=value)


def cat_left(parts: list[torch.Tensor], value) -> torch.Tensor:
    width = max(int(p.shape[1]) for p in parts)
    return torch.cat([left_pad(p, width, value) for p in parts])


def cat_right(parts: list[torch.Tensor], value) -> torch.Tensor:
    width = max(int(p.shape[1]) for p in parts)
    return torch.cat([right_pad(p, width, value) for p in parts])


def _cat_media(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    keys = [k for k in first if first[k] is not None] + [k for k in second if second[k] is not None]
    out = {}
    for key in dict.fromkeys(keys):
        a, b = first.get(key), second.get(key)
        out[key] = a if b is None else b if a is None else torch.cat([torch.as_tensor(a), torch.as_tensor(b)])
    return out


def from_collated(batch: dict[str, Any], adapter, pad_id: int) -> tuple[ScoringBatch, PairLayout]:
    """The scoring batch and pair layout of a collated preference batch (`PreferenceCollator`, with
    `rejected_list_*` from `rejections.attach_rejected_list`, or rejected media from a pair sampler)."""
    b = int(batch["prompt_input_ids"].shape[0])
    dev = batch["prompt_input_ids"].device
    token_keys = [k for k in adapter.token_keys if f"prompt_{k}" in batch]
    ids, masks = [batch["prompt_input_ids"]], [batch["prompt_attention_mask"]]
    tokens = {k: [batch[f"prompt_{k}"]] for k in token_keys}
    media = {k: batch[k] for k in adapter.media_keys if batch.get(k) is not None}
    answers = [batch["chosen_input_ids"]]
    answer_masks = [batch["chosen_attention_mask"]]
    owners = [torch.arange(b, device=dev)]
    chosen = torch.arange(b, device=dev)
    if "rejected_prompt_input_ids" in batch:
        # The rejected side has contexts of its own: one per record, or K per record (prompt-major).
        extra = int(batch["rejected_prompt_input_ids"].shape[0])
        k = extra // b
        ids.append(batch["rejected_prompt_input_ids"])
        masks.append(batch["rejected_prompt_attention_mask"])
        for key in token_keys:
            tokens[key].append(batch[f"rejected_prompt_{key}"])
        media = _cat_media(media, {key: v for key, v in batch["rejected_media"].items() if key in adapter.media_keys})
        owners.append(b + torch.arange(extra, device=dev))
        rejected = b + torch.arange(extra, device=dev).view(b, k)
        answers.append(batch["rejected_input_ids"])
        answer_masks.append(batch["rejected_attention_mask"])
    else:
        owners.append(torch.arange(b, device=dev))
        answers.append(batch["rejected_input_ids"])
        answer_masks.append(batch["rejected_attention_mask"])
        rejected = (b + torch.arange(b, device=dev))[:, None]
        if LIST_IDS in batch:
            more = int(batch[LIST_IDS].shape[0]) // b
            owners.append(torch.arange(b, device=dev).repeat_interleave(more))
            answers.append(batch[LIST_IDS])
            answer_masks.append(batch[LIST_MASK])
            rejected = torch.cat([rejected, 2 * b + torch.arange(b * more, device=dev).view(b, more)], 1)
    scoring = ScoringBatch(
        context_ids=cat_left(ids, pad_id), context_mask=cat_left(masks, 0),
        context_tokens={k: cat_left(v, 0) for k, v in tokens.items()}, media=media,
        answer_ids=cat_right(answers, pad_id), answer_mask=cat_right(answer_masks, 0),
        answer_context=torch.cat(owners).long(), score_context=bool(batch.get("score_prompt")))
    return scoring, PairLayout(chosen, rejected)
