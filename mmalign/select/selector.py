"""The MIA-DPO selector: keep the model's answer as a rejection when it looked away from the target."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..augment import Augmented
from .filters import PostFilter, perplexity
from .probe import ImageAttention
from .ratio import RatioOptions, attention_ratio
from .thresholds import is_rejection, threshold_for

DROP_REASONS = ("empty_answer", "same_as_ground_truth", "no_image_attention", "attention_on_target",
                "low_ppl", "length_ratio", "too_similar", "random_drop")


@dataclass(frozen=True)
class Decision:
    """``keep``: the pair (chosen = ground truth, rejected = answer) is kept; otherwise ``reason`` says why
    not (one of :data:`DROP_REASONS`). ``ratio``/``threshold``: the attention rule's numbers."""

    keep: bool
    reason: str | None
    ratio: float
    threshold: float
    ppl: float | None


@dataclass(frozen=True)
class Selector:
    """Attention rule (per-format, per-image-count ``thresholds``, paper defaults) then post-filters.

    Checks in order: non-empty answer, answer != ground truth (stripped strings), ratio below the
    threshold (:func:`is_rejection`), then :class:`PostFilter` (perplexity > 1.1 by default).
    """

    thresholds: dict[str, dict[int, float]] | None = None
    inclusive: bool | None = None
    ratio_options: RatioOptions = field(default_factory=RatioOptions)
    post: PostFilter = field(default_factory=PostFilter)

    def decide(self, aug: Augmented, att: ImageAttention, answer: str, ground_truth: str,
               logprobs: Sequence[float] | None = None) -> Decision:
        limit = threshold_for(aug.format, aug.n_inputs, self.thresholds)
        ppl = perplexity(logprobs) if logprobs else None
        if not answer.strip():
            return Decision(False, "empty_answer", math.nan, limit, ppl)
        ratio = attention_ratio(att, aug, self.ratio_options)
        if same_answer(answer, ground_truth):
            return Decision(False, "same_as_ground_truth", ratio, limit, ppl)
        if math.isnan(ratio):
            return Decision(False, "no_image_attention", ratio, limit, ppl)
        if not is_rejection(ratio, aug.format, aug.n_inputs, thresholds=self.thresholds, inclusive=self.inclusive):
            return Decision(False, "attention_on_target", ratio, limit, ppl)
        reason = self.post.reason(answer, ground_truth, logprobs)
        return Decision(reason is None, reason, ratio, limit, ppl)


def same_answer(answer: str, ground_truth: str) -> bool:
    """Equal up to case and spacing ("red ." == "Red."): a correct answer is never a rejection."""
    def norm(text: str) -> str:
        return re.sub(r"\s+([.,!?;:])", r"\1", " ".join(text.lower().split()))

    return norm(answer) == norm(ground_truth)


@dataclass(frozen=True)
class RandomSelector:
    """The ablation baseline: keep a wrong answer as the rejection at random, ignoring attention and
    post-filters (``keep_prob`` of them, seeded per answer so a rerun keeps the same ones)."""

    keep_prob: float = 0.5
    seed: int = 0

    def decide(self, aug: Augmented, att: ImageAttention, answer: str, ground_truth: str,
               logprobs: Sequence[float] | None = None) -> Decision:
        limit = threshold_for(aug.format, aug.n_inputs, None)
        ppl = perplexity(logprobs) if logprobs else None
        if not answer.strip():
            return Decision(False, "empty_answer", math.nan, limit, ppl)
        if same_answer(answer, ground_truth):
            return Decision(False, "same_as_ground_truth", math.nan, limit, ppl)
        draw = random.Random(f"{self.seed}:{aug.prompt}:{answer}").random()
        return Decision(draw < self.keep_prob, None if draw < self.keep_prob else "random_drop", math.nan, limit, ppl)


SELECTORS = ("attention", "random")


def build_selector(kind: str, *, seed: int = 0, min_ppl: float | None = 1.1, max_length_ratio: float | None = None,
                   min_edit_distance: float | None = None) -> Selector | RandomSelector:
    """The selector `build-data mia --selector KIND` uses: `attention` (MIA-DPO's rule, then the post-filters;
    a negative or None `min_ppl` turns the perplexity filter off) or `random` (the ablation baseline)."""
    if kind == "random":
        return RandomSelector(seed=seed)
    if kind != "attention":
        raise ValueError(f"unknown selector {kind!r}; choose one of {', '.join(SELECTORS)}")
    post = PostFilter(min_ppl=None if min_ppl is None or min_ppl < 0 else min_ppl,
                      max_length_ratio=max_length_ratio, min_edit_distance=min_edit_distance)
    return Selector(post=post)
