"""The oracle judge: scores an answer against the known true answer (`reference`), with optional noise.

For tests and miniatures on the synthetic world, where the truth is known. The reference's first world word
says what kind of answer it is (a colour, a shape, yes/no; `mmalign.data.synth.grading`) and the candidate's
first word of that kind is compared with it, on a 0-10 scale (COIG-P's judges score 0-10):

    names the true answer            correct  (10)
    names none of that kind           unclear  (5: an evasive answer is better than a wrong one)
    names another answer of the kind  wrong    (0: a hallucination)

A reference without a world word is compared as normalised text (equal: 10, else 0). `noise` adds
Gaussian noise with that standard deviation, drawn from a seed derived from (seed, id, candidate), so
a resumed or re-batched run scores exactly the same. A record without a reference gets no score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..data.synth.grading import answer_word, reference_kind
from .base import Score, score_against_reference


def _normalised(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


@dataclass
class OracleJudge:
    name: str = "oracle"
    noise: float = 0.0
    seed: int = 0
    correct: float = 10.0
    unclear: float = 5.0
    wrong: float = 0.0

    def truth_score(self, text: str, reference: str) -> float:
        kind = reference_kind(reference)
        if kind is None:
            return self.correct if _normalised(text) == _normalised(reference) else self.wrong
        word = answer_word(text, kind)
        if word is None:
            return self.unclear
        return self.correct if word == answer_word(reference, kind) else self.wrong

    def score(self, records: list[dict]) -> list[list[Score]]:
        return score_against_reference(records, self.truth_score, self.noise, self.seed)
