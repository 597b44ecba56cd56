"""The packed forward: every answer of a micro-batch in ONE ordinary model call.

`prefix_forward` gives the same per-sequence answer log-probs as `logps.concatenated_forward`, but each
prompt and its media run once: row b of the single forward is `[prompt b | its answers side by side]`
(`answer_pack.py`), with a block attention mask (each answer sees its prompt and itself causally, never
another answer) and explicit position ids. Because it is one forward, gradient checkpointing and DDP see
nothing unusual: the fast path is the path with checkpointing on and under DistributedDataParallel too.
The frozen part of the vision computation can be done once for the policy and the reference
(`with_image_features`, `features.py`).

Positions: the plain forward strips the prompt's left padding, so a prompt token sits at position
`j` = its index among the real tokens. Here the prompt keeps its left padding; its positions are
`cumsum(mask) - 1` (LLaVA / text) or Qwen2-VL's M-RoPE positions from `get_rope_index` with the
attention mask (pads ignored), and answer token `t` sits at `max(prompt positions) + 1 + t`, which is
exactly what `get_rope_index` gives text after the prompt in the glued sequence.

Supported (`supports_prefix_sharing`): LLaVA-1.5 style (`llava`), Qwen2-VL / Qwen2.5-VL (`qwen2_vl`),
text-only decoders with full attention (Llama, Qwen2, ...), with eager or SDPA attention (the mask is
passed as a 4D tensor, which those implementations take as it is). Not supported, plain forward used
instead: families with sliding-window or hybrid attention layers (Mistral with a window, Gemma-2/3, ...),
any other adapter family, FlashAttention-2 (it takes no arbitrary mask), and pairs that do not share
prompt and media (VDPO's rejected images, DOVE's rejected prompt).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..models.families import unwrap_model
from .answer_pack import answer_logps, pack_answers, packed_positions, packed_row_mask
from .backend import decoder_config, packing_obstacle
from .features import (
    FEATURES_KEY,
    TOWER_KEY,
    add_vision_cache,
    compute_image_features,
    encoder_outputs,
    vision_frozen,
)
from .logps import AnswerLogps
from .rejections import LIST_IDS, LIST_MASK

__all__ = ["FEATURES_KEY", "TOWER_KEY", "compute_image_features", "prefix_forward",
           "shared_prefix_logps", "supports_prefix_sharing", "vision_frozen", "with_image_features"]

def supports_prefix_sharing(adapter, model) -> bool:
    """Whether this family/model can score packed rows (`backend.packing_obstacle` says why not)."""
    return packing_obstacle(adapter.family, decoder_config(model)) is None


def shares_prompt(batch: dict[str, Any]) -> bool:
    """False for batches whose sides do not share prompt and media: DOVE's joint scoring (prompt tokens
    scored, rejected prompt of its own) and mDPO/VDPO's rejected media."""
    return not (batch.get("score_prompt") or "rejected_prompt_input_ids" in batch or "rejected_media" in batch)


# -- frozen vision: the tower once per micro-batch for policy and reference (features.py) ---------------

def with_image_features(model, adapter, batch: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy of `batch` carrying the frozen part of the vision computation (projected features
    when tower and projector are frozen, the tower's states when only the tower is, LLaVA).

    Call once per micro-batch before the policy forward of the packed backend; `prefix_forward` then
    skips the frozen part for the policy and the reference. Whether the batch is packed was decided once
    at setup (`backend.choose_backend`), so nothing is checked here per batch.
    """
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


def _media_inputs(model, adapter, batch: dict[str, Any], answer_width: int) -> dict[str, Any]:
    cached = encoder_outputs(model, batch)  # the frozen vision part, computed once per micro-batch
    if cached is not None:
        return {"mm_encoder_outputs": cached}
    inputs = {k: batch[k] for k in adapter.media_keys if batch.get(k) is not None}
    for key in adapter.token_keys:  # per-token media types (Qwen): answers are text (0)
        if f"prompt_{key}" in batch:
            prompt = batch[f"prompt_{key}"]
            inputs[key] = torch.cat([prompt, prompt.new_zeros(prompt.shape[0], answer_width)], dim=1)
    return inputs


def _mask_dtype(model) -> torch.dtype | None:
    """None for SDPA (boolean masks); eager attention adds the mask to its scores."""
    if getattr(decoder_config(model), "_attn_implementation", None) == "sdpa":
        return None
    return next(unwrap_model(model).parameters()).dtype


def shared_prefix_logps(model, adapter, batch: dict[str, Any],
                        answers: Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
                        pad_id: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Summed answer log-probs for groups of answers that continue the batch's prompts, in one forward.

    `answers`: (input_ids [N, A], attention_mask [N, A] right-padded, owner [N] = prompt row of each
    answer row). Returns (sums [N], counts [N]) per group. Row b of the forward is prompt b followed by
    its answers side by side (answer_pack.py); logits are computed only from the prompt's last position
    on (it predicts every answer's first token).
    """
    p_ids, p_mask = batch["prompt_input_ids"], batch["prompt_attention_mask"]
    if p_mask.shape[1] and not bool(p_mask[:, -1].all()):
        raise ValueError("prefix_forward needs left-padded prompts (every row ends with a real token)")
    prompt_pos = _prompt_positions(model, adapter, batch)
    packed = pack_answers(answers, p_ids.shape[0], pad_id)
    b, s, w = packed.ids.shape
    out = model(input_ids=torch.cat([p_ids, packed.ids.view(b, s * w)], dim=1),
                position_ids=torch.cat([prompt_pos, packed_positions(prompt_pos, packed)], dim=-1),
                attention_mask=packed_row_mask(p_mask, packed, _mask_dtype(model)), use_cache=False,
                logits_to_keep=s * w + 1, **_media_inputs(model, adapter, batch, s * w))
    return answer_logps(out.logits[:, 0], out.logits[:, 1:], packed)


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
