"""Several rejections per prompt (`rejections: all`): `rejected` and every `rejected_list` answer, each
paired with `chosen`.

Each (chosen, rejection) pair gets the loss's ordinary pair loss, and a prompt's loss is the mean over its
K rejections. Summed over a batch of B prompts and scaled by 1/B, as the trainer does, that is the mean
over the B*K pairs: the update of a pairwise trainer given the same pairs written out one per line in one
batch. The packed forward runs the prompt and media once and all K+1 answers side by side in one model
call; the concatenated backend (families that cannot pack) runs chosen + rejected, then once per extra
rejection.

Batch keys: `rejected_list_input_ids` / `rejected_list_attention_mask` [B*(K-1), A], prompt-major,
the answers after `rejected`. Only pairwise losses (needs within reference and lengths) can be spread
over pairs this way; every record must carry the same number of rejections.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from ..data.prompts import pad_rows
from ..errors import ConfigError, MMAlignError
from ..losses import Loss, LossOutput
from .logps import AnswerLogps

LIST_IDS, LIST_MASK = "rejected_list_input_ids", "rejected_list_attention_mask"
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


def plain_with_list(forward: Callable[[dict[str, Any]], AnswerLogps], batch: dict[str, Any]) -> AnswerLogps:
    """The plain forward for a batch with extra rejections: once for chosen + rejected, then once per extra
    rejection (its log-probs as `.rejected_list` [B, K-1], as the shared-prefix forward returns them)."""
    out = forward(batch)
    b = batch["prompt_input_ids"].shape[0]
    ids, mask = batch[LIST_IDS], batch[LIST_MASK]
    k = ids.shape[0] // b
    sums, lengths = [], []
    for j in range(k):
        one = forward({**batch, "rejected_input_ids": ids[j::k], "rejected_attention_mask": mask[j::k]})
        sums.append(one.rejected)
        lengths.append(one.rejected_lengths)
    out.rejected_list = torch.stack(sums, 1)
    out.rejected_list_lengths = torch.stack(lengths, 1)
    return out


def all_rejected(logps: AnswerLogps) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, K] log-probs and lengths of every rejection: `rejected` first, then the list."""
    extra = getattr(logps, "rejected_list", None)
    if extra is None:
        return logps.rejected[:, None], logps.rejected_lengths[:, None]
    return (torch.cat([logps.rejected[:, None], extra], 1),
            torch.cat([logps.rejected_lengths[:, None], logps.rejected_list_lengths], 1))


def pairwise_loss(loss: Loss, policy: AnswerLogps, reference: AnswerLogps | None) -> LossOutput:
    """The loss over every (chosen, rejection) pair, averaged per prompt: losses [B], chosen rewards [B],
    rejected rewards [B, K]."""
    rejected, rejected_lengths = all_rejected(policy)  # [B, K]
    b, k = rejected.shape
    extras = {}
    if "lengths" in loss.needs:
        extras = {"chosen_lengths": policy.chosen_lengths.repeat_interleave(k),
                  "rejected_lengths": rejected_lengths.reshape(-1)}
    ref_c = ref_r = None
    if reference is not None:
        ref_c, ref_r = reference.chosen.repeat_interleave(k), all_rejected(reference)[0].reshape(-1)
    out = loss(policy.chosen.repeat_interleave(k), rejected.reshape(-1), ref_c, ref_r, **extras)
    return LossOutput(out.losses.view(b, k).mean(1), out.chosen_rewards.view(b, k).mean(1),
                      out.rejected_rewards.view(b, k), out.metrics)
