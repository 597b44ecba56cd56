"""Reading an answer against the synthetic world's truth: the first colour, shape or yes/no word.

Shared by the synthetic benchmarks (`mmalign.eval.synth`) and the oracle judge (`mmalign.judge.oracle`), so
both read "A red circle." the same way.
"""

from __future__ import annotations

import re

from .scenes import COLOURS, SHAPES

PLURALS = {f"{s}es" if s.endswith("s") else f"{s}s": s for s in SHAPES}
VOCABULARY = {"colour": frozenset(COLOURS), "shape": frozenset(SHAPES), "exists": frozenset({"yes", "no"})}


def answer_word(text: str, kind: str) -> str | None:
    """The first colour (kind "colour"), shape ("shape") or yes/no ("exists") word, lower-cased; None if none."""
    for word in re.findall(r"[a-z]+", text.lower()):
        word = PLURALS.get(word, word)
        if word in VOCABULARY[kind]:
            return word
    return None


def reference_kind(reference: str) -> str | None:
    """Which kind of word the true answer is ("Red." -> colour, "A circle." -> shape, "No." -> exists), from
    its first world word; None when it holds none."""
    for word in re.findall(r"[a-z]+", reference.lower()):
        word = PLURALS.get(word, word)
        for kind, vocabulary in VOCABULARY.items():
            if word in vocabulary:
                return kind
    return None
