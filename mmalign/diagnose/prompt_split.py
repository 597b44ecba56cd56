"""Train/test split by prompt: every pair of one prompt lands on the same side, so a probe is never tested on
a prompt it was trained on (pairs built from one prompt's candidates share its wording, media and often
answers; a split by pair would let the probe recognise the prompt instead of the chosen answer).

A prompt is its messages plus the media it names (two records asking the same question about different
images are different prompts). The split is a deterministic function of the seed and the set of prompts: the
prompts are ordered by a hash of (seed, prompt) and the first ones held out, whatever the order of the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from ..errors import MMAlignError

MIN_SIDE = 2  # prompts on each side, at least


def prompt_key(prompt, images: Sequence[str] = (), videos: Sequence[str] = ()) -> str:
    """A stable identity of a prompt with its media (normalised messages, as the record reader gives them)."""
    text = json.dumps([prompt, list(images), list(videos)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_by_prompt(keys: Sequence[str], test_fraction: float, seed: int, what: str = "the data") -> set[str]:
    """The prompt keys held out for testing: round(test_fraction · prompts), at least MIN_SIDE, leaving at least
    MIN_SIDE to train on (else an MMAlignError saying how many prompts there are)."""
    if not 0 < test_fraction < 1:
        raise MMAlignError(f"--test-fraction must be between 0 and 1, got {test_fraction}")
    distinct = sorted(set(keys))
    n = len(distinct)
    n_test = max(MIN_SIDE, round(test_fraction * n))
    if n - n_test < MIN_SIDE:
        raise MMAlignError(f"{what}: too few prompts to split by prompt: {n} distinct prompt(s); the probe needs "
                           f"at least {2 * MIN_SIDE} ({MIN_SIDE} to train on, {MIN_SIDE} to test on, no prompt on "
                           "both sides)")
    order = sorted(distinct, key=lambda k: hashlib.sha256(f"{seed}:{k}".encode()).hexdigest())
    return set(order[:n_test])
