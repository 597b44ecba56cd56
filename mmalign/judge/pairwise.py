"""The generative pairwise judge: which of two responses is better, asked in both orders.

The model sees the question, Response A and Response B (prompts/pairwise.txt; replace it with
`prompt=FILE`) and ends with [[A]], [[B]] or [[C]] (a tie). Every comparison is asked twice, with each
response first, because judges favour a position; the two verdicts are reported separately (`verdicts`,
for position-swap consistency) and averaged (`compare`). A reply without a verdict gives None for that order.

`score` gives each candidate its mean win probability against the other candidates of its record (every
ordered pair asked once, so each unordered pair in both orders); a win probability estimate of the kind
SPPO trains on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import Score, mean_or_none
from .generative import Asker, fill, question_text
from .parse import parse_verdict

DEFAULT_PROMPT = "pairwise.txt"


@dataclass
class PairwiseModelJudge:
    name: str
    asker: Asker
    template: str
    replies: list = field(default_factory=list)  # per record: {(first, second): raw replies} of the last call

    def _ask(self, record: dict, pairs: list[tuple[int, int]]) -> dict[tuple[int, int], Score]:
        """{(i, j): P(i beats j) with i shown first} for each ordered pair, samples averaged."""
        question = question_text(record)
        cands = record["candidates"]
        prompts = [fill(self.template, prompt=question, response_a=cands[i]["text"], response_b=cands[j]["text"])
                   for i, j in pairs]
        replies = self.asker.ask(record, prompts)
        self.replies.append({f"{i},{j}": r for (i, j), r in zip(pairs, replies)})
        return {pair: mean_or_none([parse_verdict(r) for r in rs]) for pair, rs in zip(pairs, replies)}

    def verdicts(self, record: dict, a: int, b: int) -> tuple[Score, Score]:
        self.replies = []
        found = self._ask(record, [(a, b), (b, a)])
        second = found[(b, a)]
        return found[(a, b)], None if second is None else 1.0 - second

    def compare(self, record: dict, a: int, b: int) -> Score:
        return mean_or_none(list(self.verdicts(record, a, b)))

    def score(self, records: list[dict]) -> list[list[Score]]:
        self.replies = []
        out = []
        for record in records:
            k = len(record["candidates"])
            pairs = [(i, j) for i in range(k) for j in range(k) if i != j]
            found = self._ask(record, pairs) if pairs else {}
            # P(i beats j) from both presentations: (i, j) directly, (j, i) as its complement.
            wins = [[found[(i, j)], None if found[(j, i)] is None else 1.0 - found[(j, i)]]
                    for i, j in pairs]
            per_pair = dict(zip(pairs, (mean_or_none(w) for w in wins)))
            out.append([mean_or_none([per_pair[(i, j)] for j in range(k) if j != i]) for i in range(k)])
        return out
