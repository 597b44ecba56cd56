"""VideoHallucer (Wang et al., 2024; official repo patrick-tssn/VideoHallucer): paired yes/no video QA.

Files: `<subset>/<subset>.json`, a JSON array of `{"basic": {"video", "question", "answer": "yes"},
"hallucination": {"video", "question", "answer": "no"}, "type"}`; videos in `<subset>/videos/`.
`data_path` is one subset file (then `root` is that subset's folder, default the file's folder) or the
folder holding the subset folders (then `root` defaults to it and videos are `<subset>/videos/...`).
Each pair becomes two questions, "<subset>/<n>/basic" and "<subset>/<n>/hallucination".

Each question uses its own record's video, as the official `evaluation_utils.py` does since its
2024-05-07 fix (commit 9789b84; before it, the hallucinated question was asked about the basic video,
which matters for semantic_detail, whose pairs use two videos). Prompt, as the official inference:
"{question}\nAnswer the question using 'yes' or 'no'.".

Scoring (`cal_score`): a question is a hit when the expected answer matches the prediction. The
current official rule is a case-insensitive whole-word regex search `\b(answer)\b`
(`match="regex"`, default); an earlier revision compared the text before the first "." exactly,
lower-cased (`match="first_sentence"`). Per subset: basic accuracy, hallucinated accuracy and the
paired accuracy (both questions of a pair right), in percent. `overall` is the unweighted mean over
the five main subsets present (the leaderboard's Overall); `fact_detect` (reported with its Fact
Score (basic+halluc)/2) and `interaction` (the repository's extra subset), if read, are kept out of it.

Bias (`evaluations/evaluation_bias.py`, pooled over the five main subsets, in `overall`; per subset as
`evaluation_bias_sep.py`; only for subsets whose pairs are yes/no): with B = basic hit ("yes" found)
and H = hallucinated hit ("no" found) per pair, n_yes = #B + #(B and not H), n_no = #H + #(H and not B),
n = #(not B) + #(not H), fp = #(B and not H); yes_diff = (n_yes - pairs) / (2 pairs), no_diff =
(n_no - pairs) / (2 pairs), fp_ratio = fp / n, halluc_score = fp / #B (the official script's quirky
counting, kept as is); times 100 here.
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
EXTRA_SUBSETS = ("fact_detect", "interaction")
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
                           "type": pair.get("type", ""), "video": str(record["video"]),
                           "question": str(record["question"])},
                    subset=subset,
                    media_type="video",
                ))
    return unique_ids(questions, data_path)


def bias(hits: list[tuple[bool, bool]]) -> dict:
    """evaluation_bias.py's numbers for (basic hit, hallucinated hit) pairs, in percent."""
    basic = sum(b for b, _ in hits)
    fp = sum(b and not h for b, h in hits)
    n_yes = basic + fp
    n_no = sum(h for _, h in hits) + sum(h and not b for b, h in hits)
    n = sum(not b for b, _ in hits) + sum(not h for _, h in hits)
    pairs = len(hits)
    return {
        "yes_diff": 100 * safe_div(n_yes - pairs, 2 * pairs),
        "no_diff": 100 * safe_div(n_no - pairs, 2 * pairs),
        "fp_ratio": 100 * safe_div(fp, n),
        "halluc_score": 100 * safe_div(fp, basic),
    }


def score(questions: list[Question], predictions: dict[str, str], match: str = "regex") -> dict:
    answers = answers_for(questions, predictions)
    pairs: dict[str, dict[str, bool]] = {}
    subset_of: dict[str, str] = {}
    yes_no: dict[str, bool] = {}
    for question, answer in zip(questions, answers):
        hit = is_hit(answer, question.truth["answer"], match)
        pairs.setdefault(question.truth["pair"], {})[question.truth["side"]] = hit
        subset_of[question.truth["pair"]] = question.subset
        expected = "yes" if question.truth["side"] == "basic" else "no"
        yes_no[question.subset] = yes_no.get(question.subset, True) and question.truth["answer"] == expected
    by_subset: dict[str, list[tuple[bool, bool]]] = {}
    incomplete = 0
    for pair_id, hits in pairs.items():
        if len(hits) < 2:  # only possible when unanswered questions were skipped
            incomplete += 1
            continue
        by_subset.setdefault(subset_of[pair_id], []).append((hits["basic"], hits["hallucination"]))
    table = {}
    for name, hits in by_subset.items():
        n = len(hits)
        table[name] = {
            "basic_accuracy": 100 * safe_div(sum(b for b, _ in hits), n),
            "halluc_accuracy": 100 * safe_div(sum(h for _, h in hits), n),
            "accuracy": 100 * safe_div(sum(b and h for b, h in hits), n),
            "n_pairs": n,
        }
        if yes_no[name]:
            table[name].update(bias(hits))
        if name == "fact_detect":
            table[name]["fact_score"] = (table[name]["basic_accuracy"] + table[name]["halluc_accuracy"]) / 2
    main = [name for name in SUBSETS if name in table]
    overall = {m: safe_div(sum(table[name][m] for name in main), len(main))
               for m in ("accuracy", "basic_accuracy", "halluc_accuracy")}
    pooled = [hit for name in main if yes_no[name] for hit in by_subset[name]]
    if pooled:
        overall.update(bias(pooled))
    overall["n_pairs"] = sum(table[name]["n_pairs"] for name in main)
    return {
        "benchmark": "videohallucer",
        "scoring": f"official rule (VideoHallucer cal_score, match={match}; bias as evaluation_bias.py)",
        "overall": overall,
        "overall_is": "unweighted mean over the main subsets present; bias pooled over their pairs",
        "subsets": table,
        "incomplete_pairs": incomplete,
    }
