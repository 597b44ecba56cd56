"""POPE (Li et al., 2023; official repo RUCAIBox/POPE): object-existence yes/no questions on COCO.

Files: `coco_pope_{random,popular,adversarial}.json`, JSON lines `{"question_id", "image", "text",
"label": "yes"|"no"}`. `data_path` is one split file or a folder holding several (files whose name
contains "pope"); the split is read from the file name. Ids are "<split>/<question_id>" because
question ids restart in every split. `root` is the COCO val2014 image folder.

Answer parsing follows the official `evaluate.py`: keep the text before the first ".", drop commas,
split on spaces, and the answer is "no" when one of the words is exactly "No", "not" or "no",
otherwise "yes". So "Yes." -> yes, "yes, there is" -> yes, "No, there is not" -> no, and also
"NO" -> yes and "Not" -> yes (the rule is case-sensitive). lmms-eval's exact match and VLMEvalKit's
yes/no extraction differ from this; numbers from them are not comparable.

Metrics per split with "yes" as the positive class: accuracy, precision, recall, F1, yes-ratio
(share of predicted "yes"), all in percent. `overall` is the unweighted mean over the splits present.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from .base import (
    Question,
    answers_for,
    default_root,
    media_path,
    read_json_items,
    require,
    safe_div,
    unique_ids,
)

SPLITS = ("random", "popular", "adversarial")
METRICS = ("accuracy", "precision", "recall", "f1", "yes_ratio")


def parse_answer(text: str) -> str:
    """"yes" or "no", as POPE's official evaluate.py reads a model's answer."""
    if "." in text:
        text = text.split(".")[0]
    words = text.replace(",", "").split(" ")
    return "no" if ("No" in words or "not" in words or "no" in words) else "yes"


def _split_name(path: Path) -> str:
    for split in SPLITS:
        if split in path.stem:
            return split
    return path.stem


def read_questions(data_path: str | Path, root: str | Path | None = None) -> list[Question]:
    data_path = Path(data_path)
    if data_path.is_dir():
        files = sorted(p for p in data_path.iterdir() if "pope" in p.name and p.suffix in (".json", ".jsonl"))
        if not files:
            raise DataError(f"{data_path}: no POPE split files (coco_pope_<split>.json) in this folder")
    else:
        files = [data_path]
    image_root = default_root(data_path, root)
    questions = []
    for path in files:
        split = _split_name(path)
        for lineno, obj in read_json_items(path):
            where = f"{path}:{lineno}"
            require(obj, ("question_id", "image", "text", "label"), where)
            if obj["label"] not in ("yes", "no"):
                raise DataError(f"{where}: label must be 'yes' or 'no', got {obj['label']!r}")
            questions.append(Question(
                id=f"{split}/{obj['question_id']}",
                media=(media_path(image_root, obj["image"], where),),
                prompt=str(obj["text"]),
                truth={"label": obj["label"]},
                subset=split,
            ))
    return unique_ids(questions, data_path)


def binary_metrics(preds: list[str], labels: list[str], positive: str = "yes") -> dict:
    """Confusion counts and accuracy/precision/recall/F1/yes-ratio (percent) for one split."""
    tp = sum(p == positive and t == positive for p, t in zip(preds, labels))
    fp = sum(p == positive and t != positive for p, t in zip(preds, labels))
    tn = sum(p != positive and t != positive for p, t in zip(preds, labels))
    fn = sum(p != positive and t == positive for p, t in zip(preds, labels))
    precision = safe_div(tp, tp + fp)
    recall = safe_div(tp, tp + fn)
    return {
        "accuracy": 100 * safe_div(tp + tn, len(labels)),
        "precision": 100 * precision,
        "recall": 100 * recall,
        "f1": 100 * safe_div(2 * precision * recall, precision + recall),
        "yes_ratio": 100 * safe_div(sum(p == "yes" for p in preds), len(preds)),
        "tp": tp, "fp": fp, "tn": tn, "fn": fn, "n": len(labels),
    }


def score(questions: list[Question], predictions: dict[str, str]) -> dict:
    answers = answers_for(questions, predictions)
    by_split: dict[str, tuple[list[str], list[str]]] = {}
    for question, answer in zip(questions, answers):
        preds, labels = by_split.setdefault(question.subset, ([], []))
        preds.append(parse_answer(answer))
        labels.append(question.truth["label"])
    subsets = {split: binary_metrics(p, t) for split, (p, t) in by_split.items()}
    overall = {m: safe_div(sum(s[m] for s in subsets.values()), len(subsets)) for m in METRICS}
    overall["n"] = len(questions)
    return {
        "benchmark": "pope",
        "scoring": "official rule (RUCAIBox/POPE evaluate.py)",
        "overall": overall,
        "overall_is": "unweighted mean over splits",
        "subsets": subsets,
    }
