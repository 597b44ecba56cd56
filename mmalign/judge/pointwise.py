"""The generative pointwise judge: Self-Rewarding's LLM-as-a-Judge (Yuan et al. 2024).

Each candidate is shown to a model with the additive 5-point prompt (prompts/self_rewarding_5point.txt,
the paper's Figure 2; replace it with `prompt=FILE`), which ends with "Score: <total points>". The judge is
asked `samples` times and the parsed scores are averaged (the paper: 3 times, averaged; the unofficial
reproduction samples at temperature 0.7, top-p 0.9). Replies without a score are left out of the mean;
a candidate with no parsed reply at all gets None (counted by the caller).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import Score, mean_or_none
from .generative import Asker, fill, question_text
from .parse import parse_score

DEFAULT_PROMPT = "self_rewarding_5point.txt"


@dataclass
class PointwiseJudge:
    name: str
    asker: Asker
    template: str
    max_score: float = 5.0
    replies: list = field(default_factory=list)  # per record, per candidate: the raw replies of the last call

    def score(self, records: list[dict]) -> list[list[Score]]:
        self.replies = []
        out = []
        for record in records:
            question = question_text(record)
            prompts = [fill(self.template, prompt=question, response=c["text"]) for c in record["candidates"]]
            replies = self.asker.ask(record, prompts)
            self.replies.append(replies)
            out.append([mean_or_none([parse_score(r, self.max_score) for r in rs]) for rs in replies])
        return out
