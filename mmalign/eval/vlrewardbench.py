"""VL-RewardBench (Li et al. 2024; HF `MMInstruction/VL-RewardBench`): image questions with two responses.

Fields (as lmms-eval's `tasks/vl_rewardbench/utils.py` reads them): `id`, `query`, `response` (two
strings), `human_ranking` (a rank per response, 0 = better: [0, 1] means response 0 is preferred).
File form — **unconfirmed**: the Hub stores Parquet with the image inside; we read JSON lines (or a JSON
array) of those fields with the image saved beside them, found as `image_path` or `image` (a relative
path) when present, else `images/<id>.jpg` under `--root` (default: the file's folder). docs/evaluation.md
gives the few lines that export it this way.

Category, as lmms-eval: the id's prefix before "-" and "_", lower-cased: mathverse and mmmu -> reasoning;
hallucination, rlhf and rlaif -> hallucination; wildvision, vlfeedback and anything else -> general.

Order: both kits show the responses in an order fixed per item by the parity of the two responses' total
length (odd: swapped) "to avoid positional bias"; that order decides an item (`chosen_shown_first`), and
the other order is reported beside it with the consistency. A reply without a verdict counts as wrong
(VLMEvalKit; lmms-eval guesses at random). Overall: `macro_accuracy` = mean of the category accuracies
(lmms-eval's score, VLMEvalKit's "Macro Accuracy"), `accuracy` = over all items (VLMEvalKit's "Overall
Consistency"). Scalar judges: right when the preferred response scores higher (a tie is wrong).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from .base import Question, default_root, media_path, read_json_items, require, unique_ids
from .reward_metrics import RewardRules, score_reward

CATEGORIES = {"mathverse": "reasoning", "mmmu": "reasoning", "hallucination": "hallucination",
              "rlhf": "hallucination", "rlaif": "hallucination", "wildvision": "general", "vlfeedback": "general"}
ORDER = ("general", "hallucination", "reasoning")
RULES = RewardRules(order="parity", scalar_tie=0.0, undecided=0.0)


def category(item_id: str) -> str:
    return CATEGORIES.get(item_id.split("-")[0].split("_")[0].lower(), "general")


def read_questions(data_path: str | Path, root: str | Path | None = None) -> list[Question]:
    data_path = Path(data_path)
    image_root = default_root(data_path, root)
    questions = []
    for lineno, obj in read_json_items(data_path):
        where = f"{data_path}:{lineno}"
        require(obj, ("id", "query", "response", "human_ranking"), where)
        responses, ranking = obj["response"], obj["human_ranking"]
        if not (isinstance(responses, list) and len(responses) == 2 and all(isinstance(r, str) for r in responses)):
            raise DataError(f"{where}: 'response' must be a list of two strings")
        if ranking not in ([0, 1], [1, 0]):
            raise DataError(f"{where}: 'human_ranking' must be [0, 1] or [1, 0], got {ranking!r}")
        preferred = ranking.index(0)
        item_id = str(obj["id"])
        rel = obj.get("image_path") or (obj["image"] if isinstance(obj.get("image"), str) else f"images/{item_id}.jpg")
        shown_first = sum(len(r) for r in responses) % 2  # the kits' parity rule: odd total length swaps
        questions.append(Question(
            id=item_id, media=(media_path(image_root, rel, where),), prompt=str(obj["query"]),
            truth={"chosen": responses[preferred], "rejected": responses[1 - preferred],
                   "chosen_shown_first": shown_first == preferred},
            subset=category(item_id)))
    return unique_ids(questions, data_path)


def score(questions: list[Question], predictions: dict[str, dict]) -> dict:
    return score_reward("vlrewardbench", questions, predictions, RULES,
                        "lmms-eval/VLMEvalKit rules (parity order; no verdict = wrong)", ORDER)
