"""Shared-prefix (prompt-once) forward.

`prefix_forward` gives the same per-sequence answer log-probs as `logps.concatenated_forward`, but runs
the vision tower and the (left-padded) prompt once per pair with `use_cache=True`, then runs every
answer of the pair (chosen, rejected, and optionally K rejections) side by side in the prompt's row on
its key/value cache (`answer_pack.py`: one mask keeps the answers apart), so gradients flow back
through the cache into the prompt. The frozen part of the vision computation can be done once for the
policy and the reference (`with_image_features`, `features.py`).

Positions: the plain forward strips the prompt's left padding, so a prompt token sits at position
`j` = its index among the real tokens. Here the prompt keeps its left padding; its positions are
`cumsum(mask) - 1` (LLaVA / text) or Qwen2-VL's M-RoPE positions from `get_rope_index` with the
attention mask (pads ignored), and answer token `t` sits at `max(prompt positions) + 1 + t`, which is
exactly what `get_rope_index` gives text after the prompt in the glued sequence.

Supported (`supports_prefix_sharing`): LLaVA-1.5 style (`llava`), Qwen2-VL / Qwen2.5-VL (`qwen2_vl`),
text-only decoders with full attention (Llama, Qwen2, ...), with eager or SDPA attention.
Not supported, plain forward used instead: families with sliding-window or hybrid attention layers
(Mistral with a window, Gemma-2/3, ...), any other adapter family, FlashAttention (untested here), and
pairs that do not share prompt and media (VDPO's rejected images, DOVE's rejected prompt).
Gradient checkpointing drops the cache inside checkpointed layers (transformers sets `cache=None`), so
while it is active (training mode with gradients enabled) `pair_forward` falls back to the plain
forward; the reference (no gradients) still shares the prefix. Likewise a DistributedDataParallel-wrapped
policy with gradients (two model calls before one backward would trip DDP's reducer) gets the plain
forward; to share the prefix there, wrap a module whose single forward calls `prefix_forward`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..models.families import unwrap_model
from .answer_pack import answer_logps, pack_answers, packed_attention_mask, packed_positions
from .features import (
    FEATURES_KEY,
    TOWER_KEY,
    add_vision_cache,
    compute_image_features,
    encoder_outputs,
    vision_frozen,
)
from .logps import AnswerLogps, concatenated_forward
from .prompt_tail import last_position_only
from .rejections import LIST_IDS, LIST_MASK, plain_with_list

__all__ = ["FEATURES_KEY", "TOWER_KEY", "compute_image_features", "pair_forward", "prefix_forward",
           "shared_prefix_logps", "supports_prefix_sharing", "vision_frozen", "with_image_features"]

PREFIX_FAMILIES = ("llava", "qwen2_vl", "text")
_ATTN_OK = (None, "eager", "sdpa")


def _text_config(model):
    cfg = unwrap_model(model).config
    return cfg.get_text_config(decoder=True) if hasattr(cfg, "get_text_config") else cfg


def supports_prefix_sharing(adapter, model) -> bool:
    """Whether this family/model can run the prompt once and branch the answers on its cache."""
    if adapter.family not in PREFIX_FAMILIES:
        return False
    tc = _text_config(model)
    types = getattr(tc, "layer_types", None)
    if types is not None and any(t != "full_attention" for t in types):
        return False
    if types is None and getattr(tc, "sliding_window", None) and getattr(tc, "use_sliding_window", True):
        return False
    return getattr(tc, "_attn_implementation", None) in _ATTN_OK


def checkpointing_active(model) -> bool:
    """True when a checkpointed layer would drop the cache in this call (training with gradients)."""
    if not (model.training and torch.is_grad_enabled()):
        return False
    return any(getattr(m, "gradient_checkpointing", False) for m in model.modules())


def ddp_with_grad(model) -> bool:
    """A DDP-wrapped policy must see one forward per backward; the prefix forward makes two calls."""
    return isinstance(model, torch.nn.parallel.DistributedDataParallel) and torch.is_grad_enabled()


def shares_prompt(batch: dict[str, Any]) -> bool:
    """False for batches whose sides do not share prompt and media: DOVE's joint scoring (prompt tokens
    scored, rejected prompt of its own) and mDPO/VDPO's rejected media."""
    return not (batch.get("score_prompt") or "rejected_prompt_input_ids" in batch or "rejected_media" in batch)


def pair_forward(model, adapter, batch: dict[str, Any], pad_id: int) -> AnswerLogps:
    """The shared-prefix forward where it applies, the plain forward otherwise (same numbers)."""
    if (supports_prefix_sharing(adapter, model) and shares_prompt(batch) and not checkpointing_active(model)
            and not ddp_with_grad(model)):
        return prefix_forward(model, adapter, batch, pad_id)
    if LIST_IDS in batch:
        return plain_with_list(lambda b: concatenated_forward(model, adapter, b, pad_id), batch)
    return concatenated_forward(model, adapter, batch, pad_id)


# -- frozen vision: the tower once per micro-batch for policy and reference (features.py) ---------------

def with_image_features(model, adapter, batch: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy of `batch` carrying the frozen part of the vision computation (projected features
    when tower and projector are frozen, the tower's states when only the tower is, LLaVA).

    Call once per micro-batch before the policy forward; `prefix_forward` then skips the frozen part for
    the policy and the reference. Batches the prefix forward will not handle are returned as is.
    """
    if not adapter.is_vision or not (supports_prefix_sharing(adapter, model) and shares_prompt(batch)):
        return batch
    return add_vision_cache(model, adapter, batch)


# -- the shared-prefix forward -------------------------------------------------------------------------

def _prompt_positions(model, adapter, batch: dict[str, Any]) -> torch.Tensor:
    """Position ids of the left-padded prompt: [B, P], or [3, B, P] for M-RoPE."""
    ids, mask = batch["prompt_input_ids"], batch["prompt_attention_mask"]
    text = (mask.long().cumsum(1) - 1).clamp(min=0)
    if adapter.family != "qwen2_vl":
        return text
    has_media = batch.get("image_grid_thw") is not None or batch.get("video_grid_thw") is not None
    if not has_media:  # the model itself uses plain positions for text-only prompts
        return text.unsqueeze(0).expand(3, -1, -1)
    extra = {k: batch[k] for k in ("second_per_grid_ts",) if batch.get(k) is not None}
    pos, _ = unwrap_model(model).model.get_rope_index(
        ids, mm_token_type_ids=batch["prompt_mm_token_type_ids"], image_grid_thw=batch.get("image_grid_thw"),
        video_grid_thw=batch.get("video_grid_thw"), attention_mask=mask, **extra)
    return pos.masked_fill(mask.unsqueeze(0) == 0, 0)


def _media_inputs(model, adapter, batch: dict[str, Any]) -> dict[str, Any]:
    cached = encoder_outputs(model, batch)  # the frozen vision part, computed once per micro-batch
    if cached is not None:
        return {"mm_encoder_outputs": cached}
    inputs = {k: batch[k] for k in adapter.media_keys if batch.get(k) is not None}
    for key in adapter.token_keys:
        if f"prompt_{key}" in batch:
            inputs[key] = batch[f"prompt_{key}"]
    return inputs


def _mask_dtype(model) -> torch.dtype | None:
    """None for SDPA (boolean masks); eager attention adds the mask to its scores."""
    if getattr(_text_config(model), "_attn_implementation", None) == "sdpa":
        return None
    return next(unwrap_model(model).parameters()).dtype


def shared_prefix_logps(model, adapter, batch: dict[str, Any],
                        answers: Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
                        pad_id: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Summed answer log-probs for groups of answers that continue the batch's prompts.

    `answers`: (input_ids [N, A], attention_mask [N, A] right-padded, owner [N] = prompt row of each
    answer row). Returns (sums [N], counts [N]) per group. The prompt and media run once; then every
    prompt row's answers run side by side in one row on the prompt's key/value cache (answer_pack.py).
    """
    p_ids, p_mask = batch["prompt_input_ids"], batch["prompt_attention_mask"]
    if p_mask.shape[1] and not bool(p_mask[:, -1].all()):
        raise ValueError("prefix_forward needs left-padded prompts (every row ends with a real token)")
    prompt_pos = _prompt_positions(model, adapter, batch)
    with last_position_only(adapter, model):  # the prompt's cache and last logits are all that is used
        out = model(input_ids=p_ids, attention_mask=p_mask, position_ids=prompt_pos, use_cache=True,
                    logits_to_keep=1, **_media_inputs(model, adapter, batch))
    cache = getattr(out, "cache", None) or getattr(out, "past_key_values", None)
    if cache is None:
        raise RuntimeError("the prompt pass returned no key/value cache (gradient checkpointing active?)")
    packed = pack_answers(answers, p_ids.shape[0], pad_id)
    b, s, w = packed.ids.shape
    ans = model(input_ids=packed.ids.view(b, s * w), position_ids=packed_positions(prompt_pos, packed),
                attention_mask=packed_attention_mask(p_mask, packed, _mask_dtype(model)), cache=cache,
                use_cache=True)
    return answer_logps(out.logits[:, -1], ans.logits, packed)


def prefix_forward(model, adapter, batch: dict[str, Any], pad_id: int) -> AnswerLogps:
    """Same contract and numbers as `concatenated_forward`, with the prompt and media run once per pair.

    With `rejected_list_input_ids` / `rejected_list_attention_mask` [B*K, A] in the batch (K rejections
    per prompt, prompt-major), their log-probs come from the same pass and are returned as
    `.rejected_list` [B, K] and `.rejected_list_lengths` [B, K] attributes on the result.
    """
    b = batch["prompt_input_ids"].shape[0]
    rows = torch.arange(b, device=batch["prompt_input_ids"].device)
    groups = [(batch["chosen_input_ids"], batch["chosen_attention_mask"], rows),
              (batch["rejected_input_ids"], batch["rejected_attention_mask"], rows)]
    multi = LIST_IDS in batch
    if multi:
        k = batch[LIST_IDS].shape[0] // b
        groups.append((batch[LIST_IDS], batch[LIST_MASK], rows.repeat_interleave(k)))
    res = shared_prefix_logps(model, adapter, batch, groups, pad_id)
    out = AnswerLogps(res[0][0], res[1][0], res[0][1], res[1][1])
    if multi:
        out.rejected_list = res[2][0].view(b, k)
        out.rejected_list_lengths = res[2][1].view(b, k)
    return out
