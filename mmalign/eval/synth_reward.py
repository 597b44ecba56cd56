"""synth-reward and synth-reward-video: reward suites with known truth (`mmalign.data.synth.reward_suite`).

`questions.jsonl` lines `{"id", "images"|"videos", "prompt", "subset", "truth": {"chosen", "rejected",
"reference"}}`; `--data` is that file or its folder, media relative to `--root` (default: the file's
folder). Scored like VideoRewardBench here: accuracy per subset and over all items (`macro_accuracy`
beside it); a generative judge is right on an item only when both orders prefer the chosen response;
scalar ties are wrong. The oracle judge (`--judge oracle`) reads `truth.reference` and scores 100.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .base import Question
from .reward_metrics import RewardRules, score_reward
from .synth import read_suite
RULES = RewardRules(order="both", scalar_tie=0.0, undecided=0.0)


def read_questions(data_path: str | Path, root: str | Path | None = None) -> list[Question]:
    """The suite's questions, read as the other synthetic suites are (`synth.read_suite`), texts as strings."""
    return [dataclasses.replace(q, truth={k: str(v) for k, v in q.truth.items()})
            for q in read_suite("synth-reward", data_path, root)]


def score(questions: list[Question], predictions: dict[str, dict], name: str = "synth-reward") -> dict:
    return score_reward(name, questions, predictions, RULES, "synthetic truth (both orders must prefer chosen)")
