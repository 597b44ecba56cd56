"""Pooled hidden states of [prompt + media + answer] for every answer of a scoring batch.

Each answer is glued after its context in one right-padded row (the trainer's concatenated layout, so the
model numbers positions itself, as in training) and the model runs once with `output_hidden_states=True`
(logits only at the last position). `hidden_states` has one entry per decoder layer plus the embeddings:
layer 0 is the embedding output (media features merged in), layer i the output of decoder layer i, and the
last (-1, the default) the final hidden state after the model's last norm, which is the output head's
input and what a reward model's value head reads (`ScoreRequest(last_hidden=True)` gives the same vector at
the answer's last token).

Pools:
  last      the hidden state at the answer's last token (the template's end-of-turn token);
  mean      the mean over the answer's tokens;
  mean-all  the mean over every real token of the row: prompt text, media tokens and answer.

The prompt's tokens cannot see the answer (causal attention), so under `mean-all` the chosen and rejected
rows of one prompt share most of their average; `mean` is usually the sharper probe.
"""

from __future__ import annotations

import torch

from ..errors import MMAlignError
from ..train.concatenated import glued_inputs
from ..train.scoring_batch import ScoringBatch

POOLS = ("last", "mean", "mean-all")


def check_pools(pools) -> tuple[str, ...]:
    pools = tuple(dict.fromkeys(pools))
    unknown = [p for p in pools if p not in POOLS]
    if unknown or not pools:
        raise MMAlignError(f"unknown pooling {', '.join(unknown) or '(none given)'}; choose from {', '.join(POOLS)}")
    return pools


def layer_index(layer: int, available: int) -> int:
    """`layer` as an index into `hidden_states` (python-style negatives), or an MMAlignError naming the range."""
    if not -available <= layer < available:
        raise MMAlignError(f"--layer {layer}: the model has {available - 1} decoder layers, so hidden states "
                           f"0..{available - 1} (0 = embeddings, {available - 1} or -1 = the last, after the final "
                           f"norm); negatives count from the end")
    return layer % available


@torch.no_grad()
def pooled_hidden(model, adapter, sb: ScoringBatch, pad_id: int, layer: int, pools) -> dict[str, torch.Tensor]:
    """{pool: [N, H] float32 on the CPU}, one row per answer of `sb`."""
    glued, inputs = glued_inputs(adapter, sb, pad_id)
    attn = inputs["attention_mask"]
    states = model(**inputs, output_hidden_states=True, use_cache=False, logits_to_keep=1).hidden_states
    hidden = states[layer_index(layer, len(states))].float()  # [N, L, H]
    out = {}
    for pool in pools:
        if pool == "last":
            last = attn.sum(1) - 1
            out[pool] = hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
            continue
        weights = (glued.in_answer if pool == "mean" else attn.bool()).float()
        out[pool] = (hidden * weights[..., None]).sum(1) / weights.sum(1, keepdim=True).clamp(min=1)
    return {k: v.cpu() for k, v in out.items()}
