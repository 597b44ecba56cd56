"""The concatenated layout (TRL's): one row per answer, its context glued before it, media repeated.

The reference every exactness test compares the packed layout against, and the fallback where packing
cannot be expressed (sliding-window or hybrid attention, kernels that take no arbitrary mask). The model
numbers positions itself from the 2D attention mask, as in ordinary training.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .scored_tokens import AnswerScores, ScoredTokens, ScoreRequest, score_rows
from .scoring_batch import ScoringBatch


@dataclass(frozen=True)
class GluedLayout:
    """Where each column of the glued rows reads from: the left-padded prompt or the right-padded answer."""

    in_prompt: torch.Tensor  # [R, L] column holds a prompt token
    in_answer: torch.Tensor  # [R, L] column holds an answer token
    prompt_col: torch.Tensor  # [R, L] its column in the prompt tensor (valid where in_prompt)
    answer_col: torch.Tensor  # [R, L] its column in the answer tensor (valid where in_answer)

    @classmethod
    def of(cls, prompt_mask: torch.Tensor, answer_mask: torch.Tensor) -> GluedLayout:
        p_len, a_len = prompt_mask.sum(1, keepdim=True), answer_mask.sum(1, keepdim=True)
        width = int((p_len + a_len).max())
        col = torch.arange(width, device=prompt_mask.device)[None]
        return cls(col < p_len, (col >= p_len) & (col < p_len + a_len),
                   (prompt_mask.shape[1] - p_len + col).clamp(max=prompt_mask.shape[1] - 1),
                   (col - p_len).clamp(min=0, max=max(answer_mask.shape[1] - 1, 0)))

    def place(self, prompt: torch.Tensor, answer: torch.Tensor | None, fill) -> torch.Tensor:
        """A per-token tensor of the glued rows: prompt values, answer values (or `fill`), then `fill`."""
        out = torch.where(self.in_prompt, prompt.gather(1, self.prompt_col), torch.full_like(self.prompt_col, fill))
        if answer is not None:
            out = torch.where(self.in_answer, answer.gather(1, self.answer_col), out)
        return out.to(prompt.dtype)


def glue(prompt_ids, prompt_mask, answer_ids, answer_mask, pad_id: int, prompt_extra=None):
    """Join left-padded prompts and right-padded answers into right-padded sequences.

    Returns input_ids, attention_mask, answer_mask (1 on answer tokens) and, if given, the per-token
    extra (e.g. Qwen's mm_token_type_ids) carried along with zeros on answer tokens.
    """
    layout = GluedLayout.of(prompt_mask, answer_mask)
    ids = layout.place(prompt_ids, answer_ids, pad_id)
    attn = (layout.in_prompt | layout.in_answer).to(prompt_mask.dtype)
    ans = layout.in_answer.to(prompt_mask.dtype)
    extra = None if prompt_extra is None else layout.place(prompt_extra, None, 0)
    return ids, attn, ans, extra


def glued_inputs(adapter, sb: ScoringBatch, pad_id: int) -> tuple[GluedLayout, dict]:
    """One row per answer, its context glued before it: the layout and the model's inputs (ids, attention mask,
    each row's media, per-token media types)."""
    owner = sb.answer_context
    layout = GluedLayout.of(sb.context_mask[owner], sb.answer_mask)
    ids = layout.place(sb.context_ids[owner], sb.answer_ids, pad_id)
    attn = (layout.in_prompt | layout.in_answer).long()
    inputs = {"input_ids": ids, "attention_mask": attn, **adapter.select_media(sb.media, sb.context_ids, owner)}
    for key, values in sb.context_tokens.items():  # per-token media types (Qwen): answers are text (0)
        inputs[key] = layout.place(values[owner], None, 0)
    return layout, inputs


def concatenated_scores(model, adapter, sb: ScoringBatch, pad_id: int,
                        request: ScoreRequest = ScoreRequest()) -> AnswerScores:
    """Scores of every answer (and, for DOVE, context) of `sb` from one forward over glued rows."""
    owner = sb.answer_context
    _, inputs = glued_inputs(adapter, sb, pad_id)
    ids = inputs["input_ids"]
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
