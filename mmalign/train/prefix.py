"""Shared-prefix (prompt-once) forward and frozen-vision feature caching.

`prefix_forward` gives the same per-sequence answer log-probs as `logps.concatenated_forward`, but runs
the vision tower and the (left-padded) prompt once per pair with `use_cache=True`, then runs every
answer of the pair (chosen, rejected, and optionally K rejections) as one batch of rows on the prompt's
key/value cache, indexed per row so that gradients flow back through the cache into the prompt.

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
from transformers import DynamicCache
from transformers.modeling_outputs import BaseModelOutputWithPooling

from ..models.families import _unwrap
from .logps import AnswerLogps, concatenated_forward

FEATURES_KEY = "image_features"  # batch key holding precomputed mm_encoder_outputs (frozen vision)
PREFIX_FAMILIES = ("llava", "qwen2_vl", "text")
_ATTN_OK = (None, "eager", "sdpa")


def _text_config(model):
    cfg = _unwrap(model).config
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
    return concatenated_forward(model, adapter, batch, pad_id)


# -- frozen vision: features computed once per pair for policy and reference ------------------------

def _vision_roots(adapter) -> tuple[str, ...]:
    prefixes = tuple(adapter.vision_prefixes) + tuple(adapter.projector_prefixes)
    return prefixes + tuple({".".join(p.split(".")[:2]) for p in prefixes})  # e.g. model.visual


def vision_frozen(model, adapter) -> bool:
    """True when no parameter of the vision tower or projector requires a gradient."""
    roots = _vision_roots(adapter)
    if not adapter.is_vision or not roots:
        return False
    params = [p for n, p in _unwrap(model).named_parameters() if n.startswith(roots)]
    return bool(params) and not any(p.requires_grad for p in params)


@torch.no_grad()
def compute_image_features(model, adapter, batch: dict[str, Any]) -> dict[str, BaseModelOutputWithPooling] | None:
    """The projected image/video features of a batch's media, as `mm_encoder_outputs` for the model.

    Exact: the same calls the model's forward makes. Only valid for a frozen vision tower (the features
    carry no gradient); then they serve policy and reference alike (LoRA never adapts the tower, and a
    frozen copy's tower equals the policy's).
    """
    inner = _unwrap(model).model
    out: dict[str, BaseModelOutputWithPooling] = {}
    if adapter.family == "llava" and batch.get("pixel_values") is not None:
        kw = {"image_sizes": batch["image_sizes"]} if batch.get("image_sizes") is not None else {}
        feats = inner.get_image_features(pixel_values=batch["pixel_values"], return_dict=True, **kw)
        out["image"] = BaseModelOutputWithPooling(pooler_output=tuple(feats.pooler_output))
    elif adapter.family == "qwen2_vl":
        if batch.get("pixel_values") is not None:
            feats = inner.get_image_features(batch["pixel_values"], batch["image_grid_thw"], return_dict=True)
            out["image"] = BaseModelOutputWithPooling(pooler_output=tuple(feats.pooler_output))
        if batch.get("pixel_values_videos") is not None:
            feats = inner.get_video_features(batch["pixel_values_videos"], batch["video_grid_thw"], return_dict=True)
            out["video"] = BaseModelOutputWithPooling(pooler_output=tuple(feats.pooler_output))
    return out or None


def with_image_features(model, adapter, batch: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy of `batch` carrying precomputed features when the vision tower is frozen.

    Call once per micro-batch before the policy forward; `prefix_forward` then skips the vision tower
    for the policy and the reference. Batches the prefix forward will not handle are returned as is.
    """
    if FEATURES_KEY in batch or not adapter.is_vision or not vision_frozen(model, adapter):
        return batch
    if not (supports_prefix_sharing(adapter, model) and shares_prompt(batch)):
        return batch
    feats = compute_image_features(model, adapter, batch)
    return batch if feats is None else {**batch, FEATURES_KEY: feats}


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
    pos, _ = _unwrap(model).model.get_rope_index(
        ids, mm_token_type_ids=batch["prompt_mm_token_type_ids"], image_grid_thw=batch.get("image_grid_thw"),
        video_grid_thw=batch.get("video_grid_thw"), attention_mask=mask, **extra)
    return pos.masked_fill(mask.unsqueeze(0) == 0, 0)


def _answer_positions(prompt_pos: torch.Tensor, owner: torch.Tensor, width: int) -> torch.Tensor:
    # Prompts end with a text token (left padding), and text after text continues by one on every axis,
    # as `get_rope_index` numbers the glued sequence.
    start = prompt_pos[..., -1] + 1  # [B] or [3, B]
    steps = torch.arange(width, device=prompt_pos.device)
    if prompt_pos.dim() == 2:
        return start[owner].unsqueeze(-1) + steps
    return start[:, owner].unsqueeze(-1) + steps


def _media_inputs(adapter, batch: dict[str, Any]) -> dict[str, Any]:
    if FEATURES_KEY in batch:
        return {"mm_encoder_outputs": dict(batch[FEATURES_KEY])}
    inputs = {k: batch[k] for k in adapter.media_keys if batch.get(k) is not None}
    for key in adapter.token_keys:
        if f"prompt_{key}" in batch:
            inputs[key] = batch[f"prompt_{key}"]
    return inputs


def shared_prefix_logps(model, adapter, batch: dict[str, Any],
                        answers: Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
                        pad_id: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Summed answer log-probs for groups of answers that continue the batch's prompts.

    `answers`: (input_ids [N, A], attention_mask [N, A] right-padded, owner [N] = prompt row of each
    answer row). Returns (sums [N], counts [N]) per group. The prompt and media run once; all answer
    rows run together on the prompt's key/value cache gathered by `owner`.
    """
    p_ids, p_mask = batch["prompt_input_ids"], batch["prompt_attention_mask"]
    if p_mask.shape[1] and not bool(p_mask[:, -1].all()):
        raise ValueError("prefix_forward needs left-padded prompts (every row ends with a real token)")
    prompt_pos = _prompt_positions(model, adapter, batch)
    out = model(input_ids=p_ids, attention_mask=p_mask, position_ids=prompt_pos, use_cache=True,
                logits_to_keep=1, **_media_inputs(adapter, batch))
    cache = getattr(out, "cache", None) or getattr(out, "past_key_values", None)
    if cache is None:
        raise RuntimeError("the prompt pass returned no key/value cache (gradient checkpointing active?)")

    width = max(int(ids.shape[1]) for ids, _, _ in answers)

    def pad(t, value):
        return torch.nn.functional.pad(t, (0, width - t.shape[1]), value=value)

    a_ids = torch.cat([pad(ids, pad_id) for ids, _, _ in answers])
    a_mask = torch.cat([pad(m, 0) for _, m, _ in answers])
    owner = torch.cat([o.to(p_ids.device) for _, _, o in answers])
    branch = DynamicCache(ddp_cache_data=[(layer.keys[owner], layer.values[owner]) for layer in cache.layers])
    attn = torch.cat([p_mask[owner], a_mask.to(p_mask.dtype)], dim=1)
    ans = model(input_ids=a_ids, attention_mask=attn, position_ids=_answer_positions(prompt_pos, owner, width),
                cache=branch, use_cache=True)
    # Token t of an answer is predicted by answer position t-1, the first one by the prompt's last position.
    logits = torch.cat([out.logits[:, -1:][owner], ans.logits[:, :-1]], dim=1)
    logp = torch.gather(torch.log_softmax(logits.float(), dim=-1), 2, a_ids.unsqueeze(-1)).squeeze(-1)
    mask = a_mask.to(logp.dtype)
    sums, counts = (logp * mask).sum(1), mask.sum(1)
    result, start = [], 0
    for ids, _, _ in answers:
        n = ids.shape[0]
        result.append((sums[start:start + n], counts[start:start + n]))
        start += n
    return result


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
    multi = "rejected_list_input_ids" in batch
    if multi:
        k = batch["rejected_list_input_ids"].shape[0] // b
        groups.append((batch["rejected_list_input_ids"], batch["rejected_list_attention_mask"],
                       rows.repeat_interleave(k)))
    res = shared_prefix_logps(model, adapter, batch, groups, pad_id)
    out = AnswerLogps(res[0][0], res[1][0], res[0][1], res[1][1])
    if multi:
        out.rejected_list = res[2][0].view(b, k)
        out.rejected_list_lengths = res[2][1].view(b, k)
    return out
