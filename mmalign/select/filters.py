"""Post-selection filters (mia_dpo.md §3): perplexity, length ratio, edit distance.

The paper's code applies only the perplexity filter (keep a rejection whose PPL > 1.1); the paper names
length ratio and edit distance without values, so those two are off unless a limit is given (ours).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MIN_PPL = 1.1


def perplexity(logprobs: Sequence[float]) -> float:
    """exp(-mean log p) over the generated tokens (NaN for an empty answer)."""
    return math.exp(-sum(logprobs) / len(logprobs)) if len(logprobs) else math.nan


def length_ratio(answer: str, reference: str) -> float:
    """Longer over shorter length in words (>= 1; inf when exactly one is empty)."""
    a, b = len(answer.split()), len(reference.split())
    if min(a, b) == 0:
        return 1.0 if a == b else math.inf
    return max(a, b) / min(a, b)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance in characters."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def normalized_edit_distance(a: str, b: str) -> float:
    """Edit distance over the longer string's length (0 = identical, 1 = nothing shared)."""
    longest = max(len(a), len(b))
    return edit_distance(a, b) / longest if longest else 0.0


@dataclass(frozen=True)
class PostFilter:
    """Drop reasons for a (chosen, rejected) pair; ``None`` turns a filter off.

    ``min_ppl``: keep only when the rejection's perplexity is above it (paper: 1.1). ``max_length_ratio``:
    drop when words(longer) / words(shorter) exceeds it (off; ours). ``min_edit_distance``: drop when the
    normalised character edit distance is below it, i.e. the answers are too alike (off; ours).
    """

    min_ppl: float | None = MIN_PPL
    max_length_ratio: float | None = None
    min_edit_distance: float | None = None

    def reason(self, rejected: str, chosen: str, logprobs: Sequence[float] | None = None) -> str | None:
        """The first filter the pair fails ("low_ppl", "length_ratio", "too_similar"), or None."""
        if self.min_ppl is not None:
            if logprobs is None:
                raise ValueError("the perplexity filter needs the rejection's token log-probabilities")
            if not perplexity(logprobs) > self.min_ppl:
                return "low_ppl"
        if self.max_length_ratio is not None and length_ratio(rejected, chosen) > self.max_length_ratio:
            return "length_ratio"
        if self.min_edit_distance is not None and normalized_edit_distance(rejected, chosen) < self.min_edit_distance:
            return "too_similar"
        return None
