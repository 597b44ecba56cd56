"""synth-reward and synth-reward-video: reward suites with known truth (`mmalign.data.synth.reward_suite`).

`questions.jsonl` lines `{"id", "images"|"videos", "prompt", "subset", "truth": {"chosen", "rejected",
"reference"}}`; `--data` is that file or its folder, media relative to `--root` (default: the file's
folder). Scored like VideoRewardBench here: accuracy per subset and over all items (`macro_accuracy`
beside it); a generative judge is right on an item only when both orders prefer the chosen response;
scalar ties are wrong. The oracle judge (`--judge oracle`) reads `truth.reference` and scores 100.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from .base import Question, default_root, media_path, read_json_items, require, unique_ids
from .reward_metrics import RewardRules, score_reward

QUESTIONS_FILE = "questions.jsonl"
RULES = RewardRules(order="both", scalar_tie=0.0, undecided=0.0)


def read_questions(data_path: str | Path, root: str | Path | None = None) -> list[Question]:
    data_path = Path(data_path)
    path = data_path / QUESTIONS_FILE if data_path.is_dir() else data_path
    media_root = default_root(path, root)
    questions = []
    for lineno, obj in read_json_items(path):
        where = f"{path}:{lineno}"
        require(obj, ("id", "prompt", "subset", "truth"), where)
        require(obj["truth"], ("chosen", "rejected"), f"{where}: truth")
        kind = "videos" if "videos" in obj else "images"
        media = obj.get(kind)
        if not isinstance(media, list) or not media:
            raise DataError(f"{where}: needs a non-empty 'images' or 'videos' list")
        questions.append(Question(
            id=str(obj["id"]), media=tuple(media_path(media_root, m, where) for m in media), prompt=str(obj["prompt"]),
            truth={k: str(v) for k, v in obj["truth"].items()}, subset=str(obj["subset"]), media_type=kind[:-1]))
    return unique_ids(questions, path)


def score(questions: list[Question], predictions: dict[str, dict], name: str = "synth-reward") -> dict:
    return score_reward(name, questions, predictions, RULES, "synthetic truth (both orders must prefer chosen)")
