"""The graded oracle judge: how many attributes of a multi-object description are right.

    graded[:noise=0,seed=0]

For the synthetic world's descriptions (scripts/recipe_miniature.py): the reference lists objects in order,
"A red circle. A blue square.", and the answer is read the same way. The k-th colour word of the answer is
compared with the k-th colour of the reference, and the k-th shape word with the k-th shape; the score is
the number that match (0 to 2 x objects). Words beyond the reference's count, and missing ones, earn nothing.
Unlike the oracle judge (one answer word, 0-10) this gives partial credit, so a policy has room to improve
one attribute at a time. `noise` adds seeded Gaussian noise as the oracle judge does. A record without a
string `reference` gets no score.

Registered through `register_judge_kind` when `mmalign.judge` is imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..data.synth.grading import PLURALS, VOCABULARY
from ..errors import MMAlignError
from .base import Score, score_against_reference
from .spec import JudgeContext, JudgeKind, register_judge_kind


def attributes(text: str) -> tuple[list[str], list[str]]:
    """(colour words, shape words) of `text`, each in the order they appear (plural shapes singular)."""
    colours, shapes = [], []
    for word in re.findall(r"[a-z]+", text.lower()):
        word = PLURALS.get(word, word)
        if word in VOCABULARY["colour"]:
            colours.append(word)
        elif word in VOCABULARY["shape"]:
            shapes.append(word)
    return colours, shapes


def graded_score(text: str, reference: str) -> int:
    """Attributes of `reference` that `text` names in the same place: colours by order, shapes by order."""
    (colours, shapes), (ref_colours, ref_shapes) = attributes(text), attributes(reference)
    return (sum(a == b for a, b in zip(colours, ref_colours))
            + sum(a == b for a, b in zip(shapes, ref_shapes)))


def max_graded_score(reference: str) -> int:
    colours, shapes = attributes(reference)
    return len(colours) + len(shapes)


@dataclass
class GradedJudge:
    name: str = "graded"
    noise: float = 0.0
    seed: int = 0

    def score(self, records: list[dict]) -> list[list[Score]]:
        return score_against_reference(records, graded_score, self.noise, self.seed)


def _build(options: dict, context: JudgeContext) -> GradedJudge:
    if options["noise"] < 0:
        raise MMAlignError("judge graded: noise must be >= 0")
    return GradedJudge(noise=options["noise"], seed=options["seed"])


register_judge_kind("graded", JudgeKind(_build, {"noise": (float, 0.0), "seed": (int, 0)},
                                        "attributes of a multi-object description that match the reference, "
                                        "in order (colour and shape per object), optional Gaussian noise"))
