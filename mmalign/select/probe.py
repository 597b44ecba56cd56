"""Attention probe: how much of an answer's attention goes to each image, read from one decoder layer.

MIA-DPO (docs/research/mia_dpo.md §2.3) reads the attention of the generated tokens in one middle decoder
layer, averaged over heads. Asking the model for ``output_attentions=True`` materialises every layer's
full ``[B, H, N, N]`` matrix; this probe instead swaps, for one forward pass, the attention function of
the one layer it reads for a wrapper that (1) runs the model's own attention implementation (sdpa,
eager, flash) unchanged and (2) computes ``softmax(Q K^T / sqrt(d) + mask)`` only for the answer-token
query rows, averaged over heads: ``[B, R, N]`` floats for that layer, nothing for the others.

The measurement is a teacher-forced forward over ``prompt + answer``: with causal attention, a query
row sees exactly what it saw when the token was fed back during generation, so the rows equal those of
``generate(..., output_attentions=True)``.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..models.adapter import Span

PROBE_IMPL = "mmalign_attention_probe"


@dataclass(frozen=True)
class ImageAttention:
    """One answer's attention on its images (mean over heads and over the probed query rows).

    ``shares[i]``: the attention mass the answer tokens give to image i's tokens (0..1; the rest goes to
    text tokens). ``maps[i]``: image i's per-token attention, shaped like its token grid ``spans[i].grid_hw``
    (``maps[i].sum() == shares[i]``). ``n_rows``: query rows averaged (0 for an empty answer).
    """

    shares: tuple[float, ...]
    maps: tuple[np.ndarray, ...] = field(repr=False)
    spans: tuple[Span, ...]
    n_rows: int
    layer: int


@dataclass
class _State:
    base_impl: str
    rows: torch.Tensor  # [B, R] query positions
    out: torch.Tensor | None = None  # [B, R, K] heads-mean attention probabilities


def _register() -> None:
    from transformers import AttentionInterface

    AttentionInterface.register(PROBE_IMPL, _probe_attention)


def _base_function(module, impl: str):
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    if impl != "eager" and impl in ALL_ATTENTION_FUNCTIONS:
        return ALL_ATTENTION_FUNCTIONS[impl]
    family = sys.modules.get(type(module).__module__)
    fn = getattr(family, "eager_attention_forward", None)
    if fn is None:
        raise RuntimeError(f"no eager attention function next to {type(module).__name__}")
    return fn


def _row_probs(query, key, mask, scaling: float, rows: torch.Tensor) -> torch.Tensor:
    """Heads-mean softmax(q k^T * scaling + mask) for the query positions ``rows`` [B, R] -> [B, R, K]."""
    b, h, q_len, d = query.shape
    k_len = key.shape[2]
    r = rows.shape[1]
    idx = rows.clamp(0, q_len - 1).to(query.device)
    q = query.gather(2, idx[:, None, :, None].expand(b, h, r, d)).float()  # [B, H, R, D]
    groups = h // key.shape[1]
    q = q.view(b, key.shape[1], groups * r, d)  # grouped-query heads share their key head
    scores = torch.matmul(q, key.float().transpose(2, 3)).view(b, h, r, k_len) * scaling  # [B, H, R, K]
    if mask is None:  # causal only: query i sits at key position k_len - q_len + i
        allowed = torch.arange(k_len, device=idx.device)[None, None, :] <= (k_len - q_len + idx)[:, :, None]
        scores = scores.masked_fill(~allowed[:, None], float("-inf"))
    else:
        m = mask[:, :, :, :k_len]
        m = m.expand(b, m.shape[1], q_len, k_len)
        m = m.gather(2, idx[:, None, :, None].expand(b, m.shape[1], r, k_len))  # [B, 1|H, R, K]
        scores = scores.masked_fill(~m, float("-inf")) if m.dtype == torch.bool else scores + m.float()
    return torch.softmax(scores, dim=-1).mean(1)  # [B, R, K]


def _probe_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    state: _State = module._mmalign_probe_state
    scaling = module.head_dim ** -0.5 if scaling is None else scaling
    out = _base_function(module, state.base_impl)(module, query, key, value, attention_mask,
                                                  scaling=scaling, dropout=dropout, **kwargs)
    if query.shape[2] > 1:  # the teacher-forced pass (never a one-token decoding step)
        state.out = _row_probs(query, key, attention_mask, scaling, state.rows)
    return out


@contextmanager
def probing(attn_module, rows: torch.Tensor):
    """Within the block, ``attn_module`` (one decoder layer's self-attention) records its answer rows."""
    _register()
    config = attn_module.config
    base = getattr(config, "_attn_implementation", None) or "eager"
    probe_config = copy.copy(config)
    probe_config._attn_implementation_internal = PROBE_IMPL  # this module only; the shared config is untouched
    state = _State(base, rows)
    attn_module.config, attn_module._mmalign_probe_state = probe_config, state
    try:
        yield state
    finally:
        attn_module.config = config
        del attn_module._mmalign_probe_state


def answer_rows(answer_start: int, n_answer: int, skip_last: bool = True) -> list[int]:
    """Query positions of an answer's tokens. ``skip_last`` (paper): the final token is never fed back
    during generation, so it has no row; a one-token answer keeps its only token."""
    n = n_answer - 1 if skip_last and n_answer > 1 else n_answer
    return list(range(answer_start, answer_start + n))


def _grid(vec: np.ndarray, span: Span) -> np.ndarray:
    gh, gw = span.grid_hw
    return vec.reshape(-1, gh, gw).sum(0) if vec.size % (gh * gw) == 0 else vec


class AttentionProbe:
    """Measure answers' attention on their images in one decoder layer of ``model``.

    ``layer``: decoder layer index (default: the middle one, ``n_layers // 2``, which is the paper's 16 of
    32 for LLaVA-1.5-7B); negative values count from the end. ``skip_last``: leave out the answer's last
    token, as the paper's generated-token rows do.
    """

    def __init__(self, model, processor, adapter, *, layer: int | None = None, skip_last: bool = True):
        self.model, self.processor, self.adapter = model, processor, adapter
        layers = adapter.decoder_layers(model)
        n = len(layers)
        self.layer = n // 2 if layer is None else (layer + n if layer < 0 else layer)
        if not 0 <= self.layer < n:
            raise ValueError(f"layer {layer} out of range for a model with {n} decoder layers")
        self.attn_module = layers[self.layer].self_attn
        self.skip_last = skip_last

    @torch.no_grad()
    def measure_inputs(self, inputs: dict[str, Any], rows: Sequence[Sequence[int]]) -> list[ImageAttention]:
        """Forward ``inputs`` (full sequences, media included) once and read the query ``rows`` of each sample."""
        b = inputs["input_ids"].shape[0]
        width = max((len(r) for r in rows), default=0)
        idx = torch.zeros((b, max(width, 1)), dtype=torch.long)
        for i, r in enumerate(rows):
            idx[i, :len(r)] = torch.tensor(list(r), dtype=torch.long) if r else 0
        device = next(self.model.parameters()).device
        moved = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in inputs.items()}
        was_training = self.model.training
        self.model.eval()
        try:
            with probing(self.attn_module, idx) as state:
                self.model(**moved, use_cache=False)
        finally:
            self.model.train(was_training)
        if state.out is None:
            raise RuntimeError("the probed layer did not run its attention")
        probs = state.out.float().cpu()  # [B, R, K]
        spans = self.adapter.image_spans({k: v for k, v in inputs.items()})
        results = []
        for i in range(b):
            n = len(rows[i])
            mean = probs[i, :n].mean(0).numpy() if n else np.zeros(probs.shape[2], dtype=np.float32)
            maps = tuple(_grid(mean[s.start:s.end], s) for s in spans[i])
            results.append(ImageAttention(tuple(float(m.sum()) for m in maps), maps, tuple(spans[i]), n, self.layer))
        return results

    def build_inputs(self, prompts: Sequence[Any], images: Sequence[Sequence[Image.Image]],
                     answers: Sequence[Sequence[int]]) -> tuple[dict[str, Any], list[list[int]]]:
        """Prompt (chat template, left-padded) + answer token ids (right-padded), and each answer's rows."""
        from ..data.prompts import PromptEncoder, pad_rows
        from ..data.schema import as_messages

        encoder = PromptEncoder(self.processor, self.adapter)
        texts = [encoder.prompt_text(as_messages(p)) for p in prompts]
        enc = encoder.encode_prompts(texts, [im for ims in images for im in ims])
        ans_ids, ans_mask = pad_rows([list(a) for a in answers], encoder.pad_token_id, left=False)
        p_len = enc["input_ids"].shape[1]
        inputs = dict(enc)
        inputs["input_ids"] = torch.cat([enc["input_ids"], ans_ids], 1)
        inputs["attention_mask"] = torch.cat([enc["attention_mask"], ans_mask.to(enc["attention_mask"].dtype)], 1)
        for key in self.adapter.token_keys:
            if key in enc:
                inputs[key] = torch.cat([enc[key], enc[key].new_zeros(ans_ids.shape)], 1)
        rows = [answer_rows(p_len, len(a), self.skip_last) for a in answers]
        return inputs, rows

    def measure(self, prompts: Sequence[Any], images: Sequence[Sequence[Image.Image]],
                answers: Sequence[Sequence[int]]) -> list[ImageAttention]:
        """Attention of each answer (token ids, e.g. ``Generation.token_ids``) on its prompt's images.

        ``prompts``: strings with one ``<image>`` per image, or user messages; ``images``: PIL images per
        prompt. One forward pass for the whole batch.
        """
        inputs, rows = self.build_inputs(prompts, images, answers)
        return self.measure_inputs(inputs, rows)
