"""The part both scoring layouts share: given model rows and where each scored token sits in them, run the
model once with logits only at the predicting positions and turn the label log-probs into per-answer
(and per-context) results.

A scored token is (row, predicting column, label); in the concatenated layout the predicting column is
the token's column - 1, in the packed layout the context's last column predicts the first token of every
answer. `logits_to_keep` is a boolean [R, L] mask (transformers then applies the output head to those
positions only, flattened row-major), so no logits are computed at prompt, media or padding positions.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from ..models.layer_trim import KEEP_FROM, enable_last_layer_trim
from .label_logps import label_logps


@dataclass(frozen=True)
class ScoreRequest:
    """Optional outputs of a scoring call (summed log-probs and token counts always come)."""

    token_logps: bool = False  # [N, A] per answer token (token-level objectives)
    answer_logits: bool = False  # [N, A, V] logits predicting each answer token (PaMi-VDPO's distance)
    last_hidden: bool = False  # [N, H] final hidden state at each answer's last token (reward models)


@dataclass
class AnswerScores:
    logps: torch.Tensor  # [N] summed answer-token log-probs (float32)
    counts: torch.Tensor  # [N] answer tokens
    context_logps: torch.Tensor | None = None  # [C] summed text-token log-probs (ScoringBatch.score_context)
    context_counts: torch.Tensor | None = None  # [C]
    token_logps: torch.Tensor | None = None  # [N, A], 0 at padding
    answer_logits: torch.Tensor | None = None  # [N, A, V], 0 at padding
    last_hidden: torch.Tensor | None = None  # [N, H]


@dataclass(frozen=True)
class ScoredTokens:
    """Where the scored tokens sit in the model rows; answer tokens first, then context tokens."""

    row: torch.Tensor  # [T] model row
    pred: torch.Tensor  # [T] column whose logits predict the token
    label: torch.Tensor  # [T] the token id
    answer: torch.Tensor  # [T] answer index, or -1 for a context token
    step: torch.Tensor  # [T] token index within its answer (0 for context tokens)
    context: torch.Tensor  # [T] context index of context tokens, -1 for answer tokens
    last_col: torch.Tensor  # [N] column of each answer's last token (its row is `answer_row`)
    answer_row: torch.Tensor  # [N]


def _capture_output(module):
    """Context manager collecting `module`'s output of the next call (a forward hook, so wrappers and
    checkpointing see an unchanged model)."""
    seen = []

    @contextlib.contextmanager
    def hooked():
        handle = module.register_forward_hook(lambda m, args, out: seen.append(out))
        try:
            yield seen
        finally:
            handle.remove()

    return hooked()


def score_rows(model, adapter, inputs: dict, plan: ScoredTokens, n_answers: int, n_contexts: int, width: int,
               request: ScoreRequest, score_context: bool) -> AnswerScores:
    """One model call on `inputs` (input_ids [R, L] plus mask/positions/media), scores per `plan`."""
    rows, length = inputs["input_ids"].shape
    # Positions before the first predicting one feed no logits: the last decoder layer skips its output
    # projection and MLP there (models/layer_trim.py) and the model returns `first` positions fewer.
    first = int(plan.pred.min()) if plan.pred.numel() else 0
    trim = {KEEP_FROM: first} if first > 0 and enable_last_layer_trim(adapter.decoder_layers(model)) else {}
    offset = first if trim else 0
    keep = torch.zeros(rows, length - offset, dtype=torch.bool, device=plan.row.device)
    keep[plan.row, plan.pred - offset] = True
    kept_index = (keep.view(-1).long().cumsum(0) - 1).view(rows, length - offset)
    hidden_ctx = _capture_output(adapter.final_norm(model)) if request.last_hidden else contextlib.nullcontext()
    with hidden_ctx as seen:
        logits = model(**inputs, use_cache=False, logits_to_keep=keep, **trim).logits  # [M, V]
    logits = logits.reshape(-1, logits.shape[-1])
    at = kept_index[plan.row, plan.pred - offset]
    lp = label_logps(logits, at, plan.label, overwrite_logits=True)  # [T] float32; nothing reads the logits later
    is_answer = plan.answer >= 0
    dev = lp.device
    sums = torch.zeros(n_answers, dtype=torch.float32, device=dev).index_add(0, plan.answer[is_answer], lp[is_answer])
    counts = torch.zeros(n_answers, dtype=torch.float32, device=dev).index_add(
        0, plan.answer[is_answer], torch.ones_like(lp[is_answer]))
    out = AnswerScores(sums, counts)
    if score_context:
        ctx = ~is_answer
        out.context_logps = torch.zeros(n_contexts, dtype=torch.float32, device=dev).index_add(
            0, plan.context[ctx], lp[ctx])
        out.context_counts = torch.zeros(n_contexts, dtype=torch.float32, device=dev).index_add(
            0, plan.context[ctx], torch.ones_like(lp[ctx]))
    n, t = plan.answer[is_answer], plan.step[is_answer]
    if request.token_logps:
        out.token_logps = torch.zeros(n_answers, width, dtype=torch.float32, device=dev).index_put(
            (n, t), lp[is_answer])
    if request.answer_logits:
        out.answer_logits = logits.new_zeros(n_answers, width, logits.shape[-1]).index_put(
            (n, t), logits[at[is_answer]])
    if request.last_hidden:
        out.last_hidden = seen[-1][plan.answer_row, plan.last_col - offset]
    return out
