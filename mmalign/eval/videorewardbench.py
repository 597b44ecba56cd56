"""VideoRewardBench (Zhang et al. 2025, arXiv 2509.00484): 1,563 video items, a prompt, a chosen and a
rejected response, in five dimensions (long-form perception 283, short-form perception 413, knowledge 238,
reasoning 278, safety 351).

File layout — **unconfirmed** (no official code or data card could be read; HF `Dragonriser/VideoRewardBench`
is cited by a third party): JSON lines (or a JSON array) of `{"id", "dimension", "video", "prompt",
"chosen", "rejected"}`, with `videos` (a list) for `video` and `question`/`query` for `prompt` accepted too;
video paths relative to `--root` (default: the file's folder). Ids: `id`, else the position.

Metrics: accuracy per dimension and `accuracy` over all items (micro: the paper's Overall, checked against
its published per-dimension numbers and counts); `macro_accuracy` beside it. How the paper orders a
generative judge's responses and counts ties is unconfirmed: here a generative judge is asked in both orders
and an item is right only when both verdicts prefer the chosen response; single-order accuracies and the
consistency are reported too. Scalar judges: right when chosen > rejected (a tie is wrong, unconfirmed).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from .base import Question, default_root, media_path, read_json_items, require, unique_ids
from .reward_metrics import RewardRules, score_reward

DIMENSIONS = ("long_perception", "short_perception", "knowledge", "reasoning", "safety")
RULES = RewardRules(order="both", scalar_tie=0.0, undecided=0.0)


def _first(obj: dict, keys: tuple[str, ...], where: str):
    for key in keys:
        if key in obj:
            return obj[key]
    raise DataError(f"{where}: missing field {keys[0]!r}")


def read_questions(data_path: str | Path, root: str | Path | None = None) -> list[Question]:
    data_path = Path(data_path)
    video_root = default_root(data_path, root)
    questions = []
    for index, (lineno, obj) in enumerate(read_json_items(data_path)):
        where = f"{data_path}:{lineno}"
        require(obj, ("chosen", "rejected", "dimension"), where)
        videos = _first(obj, ("video", "videos"), where)
        videos = [videos] if isinstance(videos, str) else videos
        if not isinstance(videos, list) or not videos or not all(isinstance(v, str) for v in videos):
            raise DataError(f"{where}: 'video' must be a path or a non-empty list of paths")
        questions.append(Question(
            id=str(obj.get("id", index)), media=tuple(media_path(video_root, v, where) for v in videos),
            prompt=str(_first(obj, ("prompt", "question", "query"), where)), media_type="video",
            truth={"chosen": str(obj["chosen"]), "rejected": str(obj["rejected"])}, subset=str(obj["dimension"])))
    return unique_ids(questions, data_path)


def score(questions: list[Question], predictions: dict[str, dict]) -> dict:
    return score_reward("videorewardbench", questions, predictions, RULES,
                        "layout and generative protocol unconfirmed (both orders must prefer chosen)", DIMENSIONS)
