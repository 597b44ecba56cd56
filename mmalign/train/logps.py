"""Per-sequence answer log-probabilities from a preference batch (the plain, concatenated forward).

Each answer is glued to its prompt as one right-padded sequence; chosen and rejected rows run in one
forward with the media repeated, which is what the common trainers do. The shared-prefix forward in
`prefix.py` gives the same numbers faster when prompt and media are shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class AnswerLogps:
    chosen: torch.Tensor  # [B] summed answer-token log-probs
    rejected: torch.Tensor  # [B]
    chosen_lengths: torch.Tensor  # [B] answer tokens
    rejected_lengths: torch.Tensor  # [B]


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


def token_logps(logits: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
    """Log-probs of the tokens that `logits` predict, in float32.

    `logits` [N, K, V] cover the last K positions of `input_ids` [N, L] (K = L for a full forward).
    The result [N, K-1] holds log p(input_ids[:, L-K+1+j] | prefix), aligned to input_ids[:, -(K-1):].
    """
    k = logits.shape[1]
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    return torch.gather(logp, 2, input_ids[:, input_ids.shape[1] - k + 1:].unsqueeze(-1)).squeeze(-1)


def side_inputs(batch: dict[str, Any], side: str) -> tuple[str, dict[str, Any]]:
    """The prompt prefix and media of one side: the rejected side may have its own (DOVE, mDPO/VDPO)."""
    if side == "rejected" and "rejected_prompt_input_ids" in batch:
        return "rejected_prompt", batch["rejected_media"]
    return "prompt", batch


def concatenated_forward(model, adapter, batch: dict[str, Any], pad_id: int) -> AnswerLogps:
    """Run prompt+chosen and prompt+rejected rows in one forward; sum the answer-token log-probs.

    With `batch["score_prompt"]` (DOVE's joint preference) the prompt's text tokens are scored too; image
    placeholders never are.
    """
    rows, masks, answers, extras, media = [], [], [], [], []
    token_key = next((k for k in adapter.token_keys if f"prompt_{k}" in batch), None)
    for side in ("chosen", "rejected"):
        prefix, side_media = side_inputs(batch, side)
        ids, attn, ans, extra = glue(batch[f"{prefix}_input_ids"], batch[f"{prefix}_attention_mask"],
                                     batch[f"{side}_input_ids"], batch[f"{side}_attention_mask"], pad_id,
                                     batch.get(f"{prefix}_{token_key}") if token_key else None)
        if batch.get("score_prompt"):
            ans = attn.clone()
            if adapter.image_token_id is not None:
                ans[ids == adapter.image_token_id] = 0
        rows.append(ids), masks.append(attn), answers.append(ans), extras.append(extra)
        media.append({k: side_media[k] for k in adapter.media_keys if k in side_media})
    width = max(r.shape[1] for r in rows)

    def right_pad(t, value):
        return torch.nn.functional.pad(t, (0, width - t.shape[1]), value=value)

    input_ids = torch.cat([right_pad(r, pad_id) for r in rows])
    attention_mask = torch.cat([right_pad(m, 0) for m in masks])
    answer_mask = torch.cat([right_pad(a, 0) for a in answers])
    inputs: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention_mask}
    if token_key:
        inputs[token_key] = torch.cat([right_pad(e, 0) for e in extras])
    inputs.update({k: torch.cat([media[0][k], media[1][k]]) for k in media[0]})
    # Only positions from the earliest scored token onwards need logits: skip the lm_head on the prompt.
    first_answer = max(1, int(answer_mask.float().argmax(1).min()))
    keep = width - first_answer + 1
    out = model(**inputs, use_cache=False, logits_to_keep=keep)
    logp = token_logps(out.logits, input_ids)  # [2B, keep-1] aligned to the last positions
    mask = answer_mask[:, answer_mask.shape[1] - logp.shape[1]:].to(logp.dtype)
    sums = (logp * mask).sum(1)
    counts = mask.sum(1)
    b = batch["prompt_input_ids"].shape[0]
    if batch.get("rejected_k"):  # several rejected media per pair (online PaMi-VDPO): [B, K]
        return AnswerLogps(sums[:b], sums[b:].view(b, -1), counts[:b], counts[b:].view(b, -1))
    return AnswerLogps(sums[:b], sums[b:], counts[:b], counts[b:])
