"""Several rejections per prompt (`rejections: all`): `rejected` and every `rejected_list` answer, each
paired with `chosen` (the loss: `pair_loss.rejection_loss`).

The collated batch gets `rejected_list_input_ids` / `rejected_list_attention_mask` [B*(K-1), A],
prompt-major, the answers after `rejected`; `scoring_batch.from_collated` makes them answers of the same
context, so the packed backend runs the prompt and media once and all K+1 answers in one forward. Only
pairwise losses (needs within reference and lengths) can be spread over pairs this way; every record must
carry the same number of rejections.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..data.prompts import pad_rows
from ..errors import ConfigError, MMAlignError
from ..losses import Loss
from .scoring_batch import LIST_IDS, LIST_MASK

PAIRWISE_NEEDS = frozenset({"reference", "lengths"})


def rejections_per_prompt(records: Sequence) -> int:
    """K = 1 + len(rejected_list), the same for every record (else an error naming the first that differs)."""
    counts = [1 + len(r.rejected_list or []) for r in records]
    if not counts:
        return 1
    for rec, k in zip(records, counts):
        if k != counts[0]:
            raise MMAlignError(f"rejections: all needs the same number of rejections in every record; "
                               f"{rec.id!r} has {k}, the first record {counts[0]}")
    return counts[0]


def check_config(loss: Loss, precompute_ref: bool, pair_sampler: bool) -> None:
    if not loss.needs <= PAIRWISE_NEEDS:
        raise ConfigError(f"rejections: all spreads a pairwise loss over (chosen, rejection) pairs; loss "
                          f"{loss.name!r} needs {sorted(loss.needs - PAIRWISE_NEEDS)}")
    if precompute_ref:
        raise ConfigError("rejections: all cannot be used with precompute_ref yet (the table holds one rejection)")
    if pair_sampler:
        raise ConfigError("rejections: all cannot be used with a pair_sampler (it makes its own rejections)")


def attach_rejected_list(collator, records: Sequence, batch: dict[str, Any]) -> dict[str, Any]:
    """A copy of `batch` with each record's `rejected_list` answers tokenised as the collator renders
    answers, right-padded, prompt-major. Records without one leave the batch as it is."""
    rows = [collator.answer_ids(r.prompt, a) for r in records for a in (r.rejected_list or [])]
    if not rows:
        return batch
    ids, mask = pad_rows(rows, collator.tokenizer.pad_token_id, left=False)
    device = batch["chosen_input_ids"].device
    return {**batch, LIST_IDS: ids.to(device), LIST_MASK: mask.to(device)}
