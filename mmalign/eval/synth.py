"""Synthetic suites with known truth (`mmalign.data.synth.suites`): readers, answer parsing, metrics.

Files: `questions.jsonl` written by `write_suite` (or `mmalign eval SUITE --make-data DIR`), one line
`{"id", "images"|"videos", "prompt", "subset", "truth"}`; `data_path` is that file or its folder and
media are relative to `root` (default: the file's folder). All rates are percentages (0-100).

- synth-pope: POPE's official parser and metrics per split (random/popular/adversarial), plus
  hallucination_rate = % of "no" questions answered yes. `overall` = unweighted mean of the splits
  (POPE's convention); `kinds` = the same metrics per question kind (object, colour) over all splits.
- synth-multi: the first colour / shape / yes-no word of the answer (by question kind) is the answer.
  accuracy = % answers equal to the truth; hallucination_rate = % answers that name something true of
  a distractor image but not of the target; unparsed_rate = % answers with no such word. Per format
  (sequence/collage/inset) in `subsets`, per kind in `kinds`; `overall` pools all questions.
- synth-video: POPE's yes/no parser; per subset (object/direction/temporal) basic, hallucinated and
  paired accuracy (both questions of a pair right), accuracy over questions and hallucination_rate
  (% hallucinated questions answered yes). `overall`: accuracy and hallucination_rate pooled over
  questions, paired_accuracy = unweighted mean over subsets (VideoHallucer's convention).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from ..data.synth.grading import answer_word
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
from .pope import binary_metrics, parse_answer

QUESTIONS_FILE = "questions.jsonl"
TRUTH_KEYS = {"synth-pope": ("label", "kind"), "synth-multi": ("kind", "answer", "distractor_answers"),
              "synth-video": ("label", "pair", "role"), "synth-reward": ("chosen", "rejected")}


def read_suite(name: str, data_path: str | Path, root: str | Path | None = None) -> list[Question]:
    data_path = Path(data_path)
    path = data_path / QUESTIONS_FILE if data_path.is_dir() else data_path
    media_root = default_root(path, root)
    questions = []
    for lineno, obj in read_json_items(path):
        where = f"{path}:{lineno}"
        require(obj, ("id", "prompt", "subset", "truth"), where)
        require(obj["truth"], TRUTH_KEYS[name], f"{where}: truth")
        for key in TRUTH_KEYS[name]:  # what scoring compares and groups by
            value = obj["truth"][key]
            if key == "distractor_answers":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise DataError(f"{where}: truth.{key} must be a list of strings")
            elif not isinstance(value, str):
                raise DataError(f"{where}: truth.{key} must be a string, got {type(value).__name__}")
        kind = "videos" if "videos" in obj else "images"
        media = obj.get(kind)
        if not isinstance(media, list) or not media:
            raise DataError(f"{where}: needs a non-empty 'images' or 'videos' list")
        questions.append(Question(
            id=str(obj["id"]), media=tuple(media_path(media_root, m, where) for m in media),
            prompt=str(obj["prompt"]), truth=dict(obj["truth"]), subset=str(obj["subset"]),
            media_type=kind[:-1]))
    return unique_ids(questions, path)


def hallucination_rate(preds: list[str], labels: list[str]) -> float:
    """% of the "no" questions answered "yes"."""
    return 100 * safe_div(sum(p == "yes" and t == "no" for p, t in zip(preds, labels)), labels.count("no"))


# ---------------------------------------------------------------------------------------- synth-pope

def _pope_group(pairs: list[tuple[str, str]]) -> dict:
    preds, labels = [p for p, _ in pairs], [t for _, t in pairs]
    return {**binary_metrics(preds, labels), "hallucination_rate": hallucination_rate(preds, labels)}


def score_pope(questions: list[Question], predictions: dict[str, str]) -> dict:
    answers = answers_for(questions, predictions)
    splits: dict[str, list] = defaultdict(list)
    kinds: dict[str, list] = defaultdict(list)
    for q, a in zip(questions, answers):
        pair = (parse_answer(a), q.truth["label"])
        splits[q.subset].append(pair)
        kinds[q.truth["kind"]].append(pair)
    subsets = {s: _pope_group(p) for s, p in splits.items()}
    keys = ("accuracy", "precision", "recall", "f1", "yes_ratio", "hallucination_rate")
    overall = {k: safe_div(sum(s[k] for s in subsets.values()), len(subsets)) for k in keys}
    overall["n"] = len(questions)
    return {"benchmark": "synth-pope", "scoring": "POPE official rule on synthetic truth",
            "overall": overall, "overall_is": "unweighted mean over splits", "subsets": subsets,
            "kinds": {k: _pope_group(p) for k, p in kinds.items()}}


# --------------------------------------------------------------------------------------- synth-multi

def parse_multi(answer: str, kind: str) -> str | None:
    """The first colour (kind "colour"), shape ("shape") or yes/no ("exists") word, lower-cased."""
    return answer_word(answer, kind)


def _multi_group(rows: list[tuple[str | None, dict]]) -> dict:
    n = len(rows)
    correct = sum(p == t["answer"] for p, t in rows)
    halluc = sum(p is not None and p in t["distractor_answers"] for p, t in rows)
    return {"accuracy": 100 * safe_div(correct, n), "hallucination_rate": 100 * safe_div(halluc, n),
            "unparsed_rate": 100 * safe_div(sum(p is None for p, _ in rows), n),
            "correct": correct, "hallucinated": halluc, "n": n}


def score_multi(questions: list[Question], predictions: dict[str, str]) -> dict:
    answers = answers_for(questions, predictions)
    rows = [(parse_multi(a, q.truth["kind"]), q.truth) for q, a in zip(questions, answers)]
    subsets: dict[str, list] = defaultdict(list)
    kinds: dict[str, list] = defaultdict(list)
    for q, row in zip(questions, rows):
        subsets[q.subset].append(row)
        kinds[q.truth["kind"]].append(row)
    return {"benchmark": "synth-multi", "scoring": "first colour/shape/yes-no word against synthetic truth",
            "overall": _multi_group(rows), "overall_is": "pooled over questions",
            "subsets": {s: _multi_group(r) for s, r in subsets.items()},
            "kinds": {k: _multi_group(r) for k, r in kinds.items()}}


# --------------------------------------------------------------------------------------- synth-video

def _video_group(rows: list[tuple[Question, str]]) -> dict:
    basic = [p == q.truth["label"] for q, p in rows if q.truth["role"] == "basic"]
    hall = [p == q.truth["label"] for q, p in rows if q.truth["role"] != "basic"]
    hits: dict[str, list[bool]] = defaultdict(list)
    for q, p in rows:
        hits[q.truth["pair"]].append(p == q.truth["label"])
    full = [h for h in hits.values() if len(h) == 2]  # a pair missing an answer is left out
    preds, labels = [p for _, p in rows], [q.truth["label"] for q, _ in rows]
    return {"accuracy": 100 * safe_div(sum(basic) + sum(hall), len(rows)),
            "basic_accuracy": 100 * safe_div(sum(basic), len(basic)),
            "hallucinated_accuracy": 100 * safe_div(sum(hall), len(hall)),
            "paired_accuracy": 100 * safe_div(sum(all(h) for h in full), len(full)),
            "hallucination_rate": hallucination_rate(preds, labels),
            "yes_ratio": 100 * safe_div(preds.count("yes"), len(preds)),
            "pairs": len(full), "n": len(rows)}


def score_video(questions: list[Question], predictions: dict[str, str]) -> dict:
    answers = answers_for(questions, predictions)
    rows = [(q, parse_answer(a)) for q, a in zip(questions, answers)]
    by_subset: dict[str, list] = defaultdict(list)
    for row in rows:
        by_subset[row[0].subset].append(row)
    subsets = {s: _video_group(r) for s, r in by_subset.items()}
    overall = _video_group(rows)
    overall["paired_accuracy"] = safe_div(sum(s["paired_accuracy"] for s in subsets.values()), len(subsets))
    return {"benchmark": "synth-video", "scoring": "POPE yes/no rule; paired accuracy as VideoHallucer",
            "overall": overall, "overall_is": "pooled over questions; paired_accuracy = mean over subsets",
            "subsets": subsets}


# ------------------------------------------------------------------------------- per-question right/wrong

def answered_right(name: str, questions: list[Question], predictions: dict[str, str]) -> dict[str, bool]:
    """id -> whether the answer is right, by the suite's own rule (POPE's parser for synth-pope, the first
    answer word for synth-multi); what a paired test such as McNemar's compares between two models."""
    answers = answers_for(questions, predictions)
    if name == "synth-pope":
        return {q.id: parse_answer(a) == q.truth["label"] for q, a in zip(questions, answers)}
    if name == "synth-multi":
        return {q.id: parse_multi(a, q.truth["kind"]) == q.truth["answer"] for q, a in zip(questions, answers)}
    raise ValueError(f"answered_right: no per-question rule for {name!r} (synth-pope, synth-multi)")
