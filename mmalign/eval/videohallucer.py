"""VideoHallucer (Wang et al., 2024; official repo patrick-tssn/VideoHallucer): paired yes/no video QA.

Files: `<subset>/<subset>.json`, a JSON array of `{"basic": {"video", "question", "answer": "yes"},
"hallucination": {"video", "question", "answer": "no"}, "type"}`; videos in `<subset>/videos/`.
`data_path` is one subset file (then `root` is that subset's folder, default the file's folder) or the
folder holding the subset folders (then `root` defaults to it and videos are `<subset>/videos/...`).
Each pair becomes two questions, "<subset>/<n>/basic" and "<subset>/<n>/hallucination".

Each question uses its own record's video. (The official `evaluation_utils.py` passes the basic video
for the hallucinated question too, which matters for semantic_detail, whose pairs use two videos.)
Prompt, as the official inference: "{question}\nAnswer the question using 'yes' or 'no'.".

Scoring (`cal_score`): a question is a hit when the expected answer matches the prediction. The
current official rule is a case-insensitive whole-word regex search `\b(answer)\b`
(`match="regex"`, default); an earlier revision compared the text before the first "." exactly,
lower-cased (`match="first_sentence"`). Per subset: basic accuracy, hallucinated accuracy and the
paired accuracy (both questions of a pair right), in percent. `overall` is the unweighted mean over
the five main subsets present; `fact_detect`, if read, is reported with its Fact Score
(basic+halluc)/2 but left out of the mean.
"""

from __future__ import annotations

import re
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

SUBSETS = ("object_relation", "temporal", "semantic_detail", "external_factual", "external_nonfactual")
EXTRA_SUBSETS = ("fact_detect",)
PROMPT = "{question}\nAnswer the question using 'yes' or 'no'."
SIDES = ("basic", "hallucination")


def is_hit(prediction: str, answer: str, match: str = "regex") -> bool:
    """Whether a prediction counts as the expected answer, under the official rule named by `match`."""
    if match == "regex":
        return re.search(rf"\b({re.escape(answer)})\b", prediction, flags=re.IGNORECASE) is not None
    if match == "first_sentence":
        return prediction.split(".")[0].strip().lower() == answer.lower()
    raise ValueError(f"match must be 'regex' or 'first_sentence', got {match!r}")


def read_questions(data_path: str | Path, root: str | Path | None = None) -> list[Question]:
    data_path = Path(data_path)
    base = default_root(data_path, root)
    if data_path.is_dir():
        files = [(name, data_path / name / f"{name}.json") for name in SUBSETS + EXTRA_SUBSETS]
        files = [(name, path) for name, path in files if path.is_file()]
        if not files:
            raise DataError(f"{data_path}: no VideoHallucer subset files (<subset>/<subset>.json) here")
        media_dirs = {name: base / name / "videos" for name, _ in files}
    else:
        name = data_path.stem
        files = [(name, data_path)]
        media_dirs = {name: base / "videos"}
    questions = []
    for subset, path in files:
        for index, (lineno, pair) in enumerate(read_json_items(path)):
            where = f"{path}:{lineno}"
            require(pair, SIDES, where)
            for side in SIDES:
                require(pair[side], ("video", "question", "answer"), f"{where}: {side}")
                record = pair[side]
                questions.append(Question(
                    id=f"{subset}/{index}/{side}",
                    media=(media_path(media_dirs[subset], record["video"], where),),
                    prompt=PROMPT.format(question=record["question"]),
                    truth={"answer": str(record["answer"]), "side": side, "pair": f"{subset}/{index}",
                           "type": pair.get("type", "")},
                    subset=subset,
                    media_type="video",
                ))
    return unique_ids(questions, data_path)


def score(questions: list[Question], predictions: dict[str, str], match: str = "regex") -> dict:
    answers = answers_for(questions, predictions)
    pairs: dict[str, dict[str, bool]] = {}
    subset_of: dict[str, str] = {}
    for question, answer in zip(questions, answers):
        hit = is_hit(answer, question.truth["answer"], match)
        pairs.setdefault(question.truth["pair"], {})[question.truth["side"]] = hit
        subset_of[question.truth["pair"]] = question.subset
    subsets: dict[str, dict] = {}
    incomplete = 0
    for pair_id, hits in pairs.items():
        if len(hits) < 2:  # only possible when unanswered questions were skipped
            incomplete += 1
            continue
        s = subsets.setdefault(subset_of[pair_id], {"basic": 0, "halluc": 0, "paired": 0, "n_pairs": 0})
        s["basic"] += hits["basic"]
        s["halluc"] += hits["hallucination"]
        s["paired"] += hits["basic"] and hits["hallucination"]
        s["n_pairs"] += 1
    table = {}
    for name, s in subsets.items():
        table[name] = {
            "basic_accuracy": 100 * safe_div(s["basic"], s["n_pairs"]),
            "halluc_accuracy": 100 * safe_div(s["halluc"], s["n_pairs"]),
            "accuracy": 100 * safe_div(s["paired"], s["n_pairs"]),
            "n_pairs": s["n_pairs"],
        }
        if name in EXTRA_SUBSETS:
            table[name]["fact_score"] = (table[name]["basic_accuracy"] + table[name]["halluc_accuracy"]) / 2
    main = [table[name] for name in SUBSETS if name in table]
    overall = {m: safe_div(sum(t[m] for t in main), len(main))
               for m in ("accuracy", "basic_accuracy", "halluc_accuracy")}
    overall["n_pairs"] = sum(t["n_pairs"] for t in main)
    return {
        "benchmark": "videohallucer",
        "scoring": f"official rule (VideoHallucer cal_score, match={match})",
        "overall": overall,
        "overall_is": "unweighted mean over the main subsets present",
        "subsets": table,
        "incomplete_pairs": incomplete,
    }
