"""Contexts and the answers that continue them, as one scoring batch of the trainer's scoring core.

A diagnostic reads answers under their prompt and media exactly as training does: the prompt through the
model's processor and chat template (`PreferenceCollator`'s encoding), each answer rendered by the template
after it (end-of-turn token included). A context may carry any number of answers: a pair's chosen and
rejected, or the K sampled candidates of one prompt.

    batch = scoring_batch(collator, [Context(prompt, images, videos, [chosen, rejected]), ...])
    logps, counts = answer_logps(model, forward, batch)        # summed answer-token log-probs, [N] each
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch

from ..data.prompts import pad_rows
from ..data.schema import Message, PreferenceRecord
from ..train.scoring_batch import ScoringBatch
from ..train.step import PairForward


@dataclass(frozen=True)
class Context:
    prompt: list[Message]
    images: list[str] = field(default_factory=list)
    videos: list[str] = field(default_factory=list)
    answers: list[list[Message]] = field(default_factory=list)


def text_answer(text: str) -> list[Message]:
    """An answer given as plain text, as the assistant message the chat template renders."""
    return [{"role": "assistant", "content": [{"type": "text", "text": text}]}]


def scoring_batch(collator, contexts: list[Context]) -> ScoringBatch:
    """The scoring batch of `contexts` (prompts left-padded with their media; answers right-padded, in context
    order). `collator` is a `PreferenceCollator` (its media root, frame sampling and template)."""
    adapter = collator.adapter
    holders = [PreferenceRecord(id=str(i), prompt=c.prompt, chosen=[], rejected=[], images=list(c.images),
                                videos=list(c.videos)) for i, c in enumerate(contexts)]
    texts = [collator.prompt_text(c.prompt) for c in contexts]
    images = [img for h in holders for img in collator.images_of(h)]
    videos = [v for h in holders for v in collator.videos_of(h)]
    enc = collator.encode_prompts(texts, images, videos)
    rows = [collator.answer_ids(c.prompt, a) for c in contexts for a in c.answers]
    owners = [i for i, c in enumerate(contexts) for _ in c.answers]
    ids, mask = pad_rows(rows, collator.pad_token_id, left=False)
    media = {k: v for k, v in adapter.media_inputs(enc).items() if v is not None}
    return ScoringBatch(context_ids=enc["input_ids"], context_mask=enc["attention_mask"],
                        context_tokens={k: enc[k] for k in adapter.token_keys if k in enc}, media=media,
                        answer_ids=ids, answer_mask=mask, answer_context=torch.tensor(owners, dtype=torch.long))


def on_device(sb: ScoringBatch, device) -> ScoringBatch:
    def move(v):
        return v.to(device) if isinstance(v, torch.Tensor) else v

    return dataclasses.replace(sb, context_ids=move(sb.context_ids), context_mask=move(sb.context_mask),
                               context_tokens={k: move(v) for k, v in sb.context_tokens.items()},
                               media={k: move(v) for k, v in sb.media.items()}, answer_ids=move(sb.answer_ids),
                               answer_mask=move(sb.answer_mask), answer_context=move(sb.answer_context))


@torch.no_grad()
def answer_logps(model, forward: PairForward, sb: ScoringBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed log-probs [N] (float32, on the CPU) and token counts [N] of every answer of `sb` under `model`."""
    scores = forward.scores(model, forward.cached(model, sb))
    return scores.logps.float().cpu(), scores.counts.cpu()


def model_device(model) -> torch.device:
    return next(model.parameters()).device
