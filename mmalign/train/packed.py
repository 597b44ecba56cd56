"""The packed layout: every answer of a micro-batch in ONE ordinary model call, one row per context.

    row c:  [ context c (P, left-padded) | its answer 1 (W) | its answer 2 (W) | ... ]

A block attention mask (`answer_pack.packed_row_mask`) lets each answer see its context and itself
causally, never another answer, and explicit position ids put every answer's first token at the
context's last position + 1 on every axis (the adapter numbers the context: M-RoPE for Qwen2-VL). Each
context and its media run once however many answers it has; the frozen part of the vision computation
can be shared by the policy and the reference (`features.py`). Because it is one plain forward, gradient
checkpointing, DDP/FSDP wrappers and LoRA see nothing unusual. docs/scoring.md draws the mask.

Only families whose decoder attention takes an arbitrary 4D mask can pack (`backend.packing_obstacle`).
"""

from __future__ import annotations

from typing import Any

import torch

from ..models.families import unwrap_model
from .answer_pack import pack_answers, packed_positions, packed_row_mask
from .backend import decoder_config
from .features import encoder_outputs
from .scored_tokens import AnswerScores, ScoredTokens, ScoreRequest, score_rows
from .scoring_batch import ScoringBatch


def mask_dtype(model) -> torch.dtype | None:
    """None for SDPA (boolean masks); eager attention adds the mask to its scores, so it gets a float."""
    if getattr(decoder_config(model), "_attn_implementation", None) == "sdpa":
        return None
    return next(unwrap_model(model).parameters()).dtype


def context_text_tokens(sb: ScoringBatch, adapter) -> tuple[torch.Tensor, torch.Tensor]:
    """(context, column) of the context tokens DOVE scores: real, not the first (nothing predicts it), not a
    media placeholder."""
    ids, mask = sb.context_ids, sb.context_mask.bool()
    first = mask.shape[1] - mask.sum(1, keepdim=True)  # column of each row's first real token
    cols = torch.arange(ids.shape[1], device=ids.device)[None]
    scored = mask & (cols > first)
    for token in adapter.media_token_ids:
        scored &= ids != token
    return scored.nonzero(as_tuple=True)


def _media_inputs(model, adapter, sb: ScoringBatch, answer_width: int) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    cached = encoder_outputs(model, adapter, sb.vision_cache)  # the frozen vision part, computed once per micro-batch
    if cached is not None:
        inputs["mm_encoder_outputs"] = cached
    else:
        inputs.update(sb.media)
    for key, prompt in sb.context_tokens.items():  # per-token media types (Qwen): answers are text (0)
        inputs[key] = torch.cat([prompt, prompt.new_zeros(prompt.shape[0], answer_width)], dim=1)
    return inputs


def packed_scores(model, adapter, sb: ScoringBatch, pad_id: int,
                  request: ScoreRequest = ScoreRequest()) -> AnswerScores:
    """Scores of every answer (and, for DOVE, context) of `sb` from one forward over packed rows."""
    ids, mask = sb.context_ids, sb.context_mask
    if mask.shape[1] and not bool(mask[:, -1].all()):
        raise ValueError("packed scoring needs left-padded contexts (every row ends with a real token)")
    c, p = ids.shape
    packed = pack_answers([(sb.answer_ids, sb.answer_mask, sb.answer_context)], c, pad_id)
    _, s, w = packed.ids.shape
    context_pos = adapter.context_positions(model, ids, mask, sb.context_tokens, sb.media)
    inputs = {"input_ids": torch.cat([ids, packed.ids.view(c, s * w)], dim=1),
              "position_ids": torch.cat([context_pos, packed_positions(context_pos, packed)], dim=-1),
              "attention_mask": packed_row_mask(mask, packed, mask_dtype(model)),
              **_media_inputs(model, adapter, sb, s * w)}
    n, t = sb.answer_mask.bool().nonzero(as_tuple=True)
    col = p + packed.slot[n] * w + t
    rows = [sb.answer_context[n]]
    preds = [torch.where(t == 0, torch.full_like(col, p - 1), col - 1)]
    labels = [sb.answer_ids[n, t]]
    answer, step, context = [n], [t], [torch.full_like(n, -1)]
    if sb.score_context:
        ctx, ctx_col = context_text_tokens(sb, adapter)
        rows.append(ctx), preds.append(ctx_col - 1), labels.append(ids[ctx, ctx_col])
        answer.append(torch.full_like(ctx, -1)), step.append(torch.zeros_like(ctx)), context.append(ctx)
    last = (sb.answer_mask.sum(1) - 1).clamp(min=0)
    plan = ScoredTokens(torch.cat(rows), torch.cat(preds), torch.cat(labels), torch.cat(answer), torch.cat(step),
                        torch.cat(context), last_col=p + packed.slot * w + last, answer_row=sb.answer_context)
    return score_rows(model, adapter, inputs, plan, sb.answers, sb.contexts, sb.answer_ids.shape[1], request,
                      sb.score_context)
