"""Answers packed side by side after their prompt, for the packed forward (one model call per micro-batch).

Every answer of prompt row b (chosen, rejected, K more rejections) goes into row b after the prompt,
slot s at columns P + [s*W, (s+1)*W), right-padded to W:

    row:   [ prompt (P, left-padded) | slot 0 (W) | slot 1 (W) | ... | slot S-1 (W) ]

One 4D attention mask (`packed_row_mask`) lets a prompt token see the prompt causally and an answer token
see its prompt's real tokens and the earlier tokens of its own slot only, so each slot computes exactly
what it would glued alone after its prompt, while the prompt and its media run once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class PackedAnswers:
    ids: torch.Tensor  # [B, S, W] token ids, pad_id where empty
    mask: torch.Tensor  # [B, S, W] 1 on answer tokens
    owner: torch.Tensor  # [N] prompt row of each answer row, in the order the groups were given
    slot: torch.Tensor  # [N] its slot in that row
    sizes: tuple[int, ...]  # rows per group

    @property
    def slots(self) -> int:
        return self.ids.shape[1]

    @property
    def width(self) -> int:
        return self.ids.shape[2]


def pack_answers(answers: Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], rows: int,
                 pad_id: int) -> PackedAnswers:
    """`answers`: groups of (input_ids [N, A], attention_mask [N, A] right-padded, owner [N]). A prompt's
    answers take its slots in the order given (group by group)."""
    device = answers[0][0].device
    width = max(int(ids.shape[1]) for ids, _, _ in answers)

    def pad(t, v):
        return torch.nn.functional.pad(t, (0, width - t.shape[1]), value=v)

    a_ids = torch.cat([pad(ids, pad_id) for ids, _, _ in answers])
    a_mask = torch.cat([pad(m, 0) for _, m, _ in answers])
    owner = torch.cat([o.to(device) for _, _, o in answers]).long()
    seen = torch.nn.functional.one_hot(owner, rows).cumsum(0)  # [N, B] answers of each row so far
    slot = seen.gather(1, owner[:, None]).squeeze(1) - 1
    slots = int(slot.max()) + 1 if slot.numel() else 0
    ids = a_ids.new_full((rows, slots, width), pad_id)
    mask = a_mask.new_zeros((rows, slots, width))
    ids[owner, slot] = a_ids
    mask[owner, slot] = a_mask
    return PackedAnswers(ids, mask, owner, slot, tuple(int(ids.shape[0]) for ids, _, _ in answers))


def packed_attention_mask(prompt_mask: torch.Tensor, packed: PackedAnswers,
                          dtype: torch.dtype | None = None) -> torch.Tensor:
    """[B, 1, S*W, P+S*W] mask for the answer pass: boolean (True = attend) for SDPA, or additive in
    `dtype` (0 / most negative) for eager attention."""
    b, s, w = packed.ids.shape
    device = prompt_mask.device
    col = torch.arange(s * w, device=device)
    same_slot = (col[:, None] // w) == (col[None, :] // w)
    causal = (col[None, :] % w) <= (col[:, None] % w)
    keys = packed.mask.reshape(b, 1, s * w).bool()
    answer_part = (same_slot & causal)[None] & keys  # [B, S*W, S*W]
    prompt_part = prompt_mask.bool()[:, None, :].expand(b, s * w, prompt_mask.shape[1])
    allowed = torch.cat([prompt_part, answer_part], dim=2)[:, None]
    if dtype is None:
        return allowed
    return torch.zeros(allowed.shape, dtype=dtype, device=device).masked_fill(~allowed, torch.finfo(dtype).min)


def packed_row_mask(prompt_mask: torch.Tensor, packed: PackedAnswers,
                    dtype: torch.dtype | None = None) -> torch.Tensor:
    """[B, 1, P+S*W, P+S*W] mask for one forward over `[prompt | slot 0 | ... | slot S-1]` rows: prompt
    tokens attend causally to the prompt's real tokens, answer tokens as in `packed_attention_mask`.
    Boolean (True = attend) for SDPA, additive in `dtype` (0 / most negative) for eager attention.

    Every query attends at least to itself, so a pad position's attention row is never empty (an empty
    row is NaN under softmax, and NaN times a zero gradient is still NaN in the backward pass).
    """
    b, p = prompt_mask.shape
    n = packed.slots * packed.width
    device = prompt_mask.device
    pos = torch.arange(p, device=device)
    causal = pos[None, :] <= pos[:, None]  # [P, P]
    prompt_rows = causal[None] & prompt_mask.bool()[:, None, :]  # [B, P, P]
    prompt_rows = torch.cat([prompt_rows, prompt_rows.new_zeros(b, p, n)], dim=2)
    answer_rows = packed_attention_mask(prompt_mask, packed)[:, 0]  # [B, N, P+N]
    allowed = torch.cat([prompt_rows, answer_rows], dim=1)
    allowed |= torch.eye(p + n, dtype=torch.bool, device=device)[None]
    allowed = allowed[:, None]
    if dtype is None:
        return allowed
    return torch.zeros(allowed.shape, dtype=dtype, device=device).masked_fill(~allowed, torch.finfo(dtype).min)


def packed_positions(prompt_pos: torch.Tensor, packed: PackedAnswers) -> torch.Tensor:
    """Answer token t of every slot sits at (last prompt position) + 1 + t: [B, S*W] or [3, B, S*W]."""
    # Prompts end with a text token (left padding), and text after text continues by one on every axis,
    # as Qwen2-VL's `get_rope_index` numbers the glued sequence.
    start = prompt_pos[..., -1:] + 1  # [B, 1] or [3, B, 1]
    steps = torch.arange(packed.width, device=prompt_pos.device).repeat(packed.slots)
    return start + steps


def answer_logps(first_logits: torch.Tensor, answer_logits: torch.Tensor,
                 packed: PackedAnswers) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Summed answer-token log-probs (float32) and token counts, per group in the order given.

    `first_logits` [B, V]: the prompt's last position (predicts token 0 of every slot);
    `answer_logits` [B, S*W, V]: the answer pass (position t of a slot predicts its token t+1).
    """
    b, s, w = packed.ids.shape
    first = torch.log_softmax(first_logits.float(), dim=-1).gather(1, packed.ids[:, :, 0])  # [B, S]
    rest = answer_logits.view(b, s, w, -1)[:, :, :-1]
    rest = torch.log_softmax(rest.float(), dim=-1).gather(3, packed.ids[:, :, 1:, None]).squeeze(3)  # [B, S, W-1]
    mask = packed.mask.to(rest.dtype)
    sums = (torch.cat([first[..., None], rest], dim=2) * mask).sum(2)[packed.owner, packed.slot]  # [N]
    counts = mask.sum(2)[packed.owner, packed.slot]
    return list(zip(sums.split(packed.sizes), counts.split(packed.sizes)))
