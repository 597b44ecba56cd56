"""The concatenated layout (TRL's): one row per answer, its context glued before it, media repeated.

The reference every exactness test compares the packed layout against, and the fallback where packing
cannot be expressed (sliding-window or hybrid attention, kernels that take no arbitrary mask). The model
numbers positions itself from the 2D attention mask, as in ordinary training.
"""

from __future__ import annotations

import torch

from .scored_tokens import AnswerScores, ScoredTokens, ScoreRequest, score_rows
from .scoring_batch import ScoringBatch


def glue(prompt_ids, prompt_mask, answer_ids, answer_mask, pad_id: int, prompt_extra=None):
    """Join left-padded prompts and right-padded answers into right-padded sequences.

    Returns input_ids, attention_mask, answer_mask (1 on answer tokens) and, if given, the per-token
    extra (e.g. Qwen's mm_token_type_ids) carried along with zeros on answer tokens.
    """
    b = prompt_ids.shape[0]
    p_len = prompt_mask.sum(1)
    a_len = answer_mask.sum(1)
    width = int((p_len + a_len).max())
    ids = prompt_ids.new_full((b, width), pad_id)
    attn = prompt_mask.new_zeros((b, width))
    ans = prompt_mask.new_zeros((b, width))
    extra = None if prompt_extra is None else prompt_extra.new_zeros((b, width))
    for i in range(b):
        p, a = int(p_len[i]), int(a_len[i])
        ids[i, :p] = prompt_ids[i, prompt_ids.shape[1] - p:]
        ids[i, p:p + a] = answer_ids[i, :a]
        attn[i, :p + a] = 1
        ans[i, p:p + a] = 1
        if extra is not None:
            extra[i, :p] = prompt_extra[i, prompt_extra.shape[1] - p:]
    return ids, attn, ans, extra


def concatenated_scores(model, adapter, sb: ScoringBatch, pad_id: int,
                        request: ScoreRequest = ScoreRequest()) -> AnswerScores:
    """Scores of every answer (and, for DOVE, context) of `sb` from one forward over glued rows."""
    owner = sb.answer_context
    ids, attn, ans, _ = glue(sb.context_ids[owner], sb.context_mask[owner], sb.answer_ids, sb.answer_mask, pad_id)
    inputs = {"input_ids": ids, "attention_mask": attn, **adapter.select_media(sb.media, sb.context_ids, owner)}
    for key, values in sb.context_tokens.items():
        inputs[key] = glue(sb.context_ids[owner], sb.context_mask[owner], sb.answer_ids, sb.answer_mask, pad_id,
                           values[owner])[3]
    start = sb.context_mask.sum(1)[owner]  # [N] column of each answer's first token
    n, t = sb.answer_mask.bool().nonzero(as_tuple=True)
    col = start[n] + t
    rows, preds, labels = [n], [col - 1], [ids[n, col]]
    answer, step, context = [n], [t], [torch.full_like(n, -1)]
    if sb.score_context:
        # Each context's text tokens are scored once, in the row of its first answer.
        first_row = torch.full((sb.contexts,), -1, dtype=torch.long, device=owner.device)
        first_row.scatter_reduce_(0, owner, torch.arange(sb.answers, device=owner.device), "amin", include_self=False)
        has = first_row >= 0
        ctx_ids = torch.arange(sb.contexts, device=owner.device)[has]
        r = first_row[has]
        cols = torch.arange(ids.shape[1], device=ids.device)[None]
        scored = (cols >= 1) & (cols < start[r][:, None])
        for token in adapter.media_token_ids:
            scored &= ids[r] != token
        i, j = scored.nonzero(as_tuple=True)
        rows.append(r[i]), preds.append(j - 1), labels.append(ids[r[i], j])
        answer.append(torch.full_like(i, -1)), step.append(torch.zeros_like(i)), context.append(ctx_ids[i])
    last = (start + sb.answer_mask.sum(1) - 1).clamp(min=0)
    plan = ScoredTokens(torch.cat(rows), torch.cat(preds), torch.cat(labels), torch.cat(answer), torch.cat(step),
                        torch.cat(context), last_col=last, answer_row=torch.arange(sb.answers, device=owner.device))
    return score_rows(model, adapter, inputs, plan, sb.answers, sb.contexts, sb.answer_ids.shape[1], request,
                      sb.score_context)
