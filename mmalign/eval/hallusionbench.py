"""HallusionBench (Guan et al., CVPR 2024; official repo tianyi-lab/HallusionBench): yes/no questions
on figures, some edited, some asked without a figure.

File: `HallusionBench.json`, a JSON array of `{"category": "VD"|"VS", "subcategory", "visual_input":
"0"|"1"|"2", "set_id", "figure_id", "question_id", "question", "gt_answer_details", "gt_answer":
"1"|"0", "filename"}`; `root` is the folder the `filename` paths are relative to (default: the JSON's
folder). Ids are "<category>_<subcategory>_<set_id>_<figure_id>_<question_id>".

Two scoring modes, labelled in the output:
* `mode="judge"` (the official method): `judge(prompt) -> str` reads JUDGE_PROMPT filled with the
  question, `gt_answer_details` and the answer, and says correct / incorrect / unclear (read as the
  official utils.py does: "incorrect" anywhere -> incorrect, else "correct" anywhere -> correct, else
  unclear). For VS questions without a figure, "unclear" counts as correct. The official judge is
  GPT-4; with any other judge the scores are labelled "local judge".
* `mode="rule"` (default, no judge): yes/no extraction (lower-case, punctuation to spaces; "yes"
  without "no" -> yes, "no" without "yes" -> no, otherwise unknown = wrong) compared with
  `gt_answer`. This is VLMEvalKit's rule, not the official metric; numbers differ from GPT-judged ones.

Metrics, in percent, as the official `evaluation.py` / `utils.py` compute them, overall and per category:
aAcc (per question), fAcc (a figure counts when all its questions are right; VS questions without a
figure excluded), qAcc (a question counts when it is right under every visual input, grouped by
category, subcategory, set_id and question_id), easy_aAcc / hard_aAcc (the leaderboard columns: the
qAcc grouping restricted to visual_input 0/1 questions, resp. visual_input 2 questions), the yes/no
bias (yes_no_pct_diff, yes_no_fp_ratio: official fractions times 100) and the figure consistency test
(figure_inconsistent, figure_wrong, figure_score = mean share of right answers per figure). The
failure analysis (LH / VI / Mixed) needs the official second GPT-4 prompt ("same"/"different") and is
not computed.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ..errors import DataError, MMAlignError
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

JUDGE_PROMPT = (
    "Imagine you are an intelligent teacher. Thoroughly read the question, reference answer and the "
    "prediction answer to ensure a clear understanding of the information provided. Assess the correctness "
    "of the predictions. If the prediction answer does not conflict with the reference answer, please "
    "generate \u201ccorrect\u201d. If the prediction answer conflict with the reference answer, please generate "
    "\u201cincorrect\u201d. If the prediction answer is unclear about the answer, please generate \"unclear\". "
    "\n\n Question:{question}\nReference answer: {reference}\nPrediction answer:{prediction}\nOutput:"
)
FIELDS = ("category", "subcategory", "visual_input", "set_id", "figure_id", "question_id", "question",
          "gt_answer_details", "gt_answer")
_PUNCTUATION = str.maketrans({c: " " for c in string.punctuation})


def extract_yes_no(text: str) -> str:
    """"yes", "no" or "unknown" by the rule-based extraction (VLMEvalKit style)."""
    words = text.lower().translate(_PUNCTUATION).split()
    if ("yes" in words) != ("no" in words):
        return "yes" if "yes" in words else "no"
    return "unknown"


def parse_judgement(output: str) -> str:
    """"correct", "incorrect" or "unclear", read from a judge's output as the official utils.py does."""
    lowered = output.lower()
    if "incorrect" in lowered:
        return "incorrect"
    return "correct" if "correct" in lowered else "unclear"


def read_questions(data_path: str | Path, root: str | Path | None = None) -> list[Question]:
    data_path = Path(data_path)
    image_root = default_root(data_path, root)
    questions = []
    for lineno, obj in read_json_items(data_path):
        where = f"{data_path}:{lineno}"
        require(obj, FIELDS, where)
        if str(obj["gt_answer"]) not in ("0", "1"):
            raise DataError(f"{where}: gt_answer must be '1' (yes) or '0' (no), got {obj['gt_answer']!r}")
        has_figure = str(obj["visual_input"]) != "0"
        if has_figure and not obj.get("filename"):
            raise DataError(f"{where}: visual_input {obj['visual_input']} needs a 'filename'")
        key = {k: str(obj[k]) for k in ("category", "subcategory", "set_id", "figure_id", "question_id")}
        questions.append(Question(
            id="_".join(key.values()),
            media=(media_path(image_root, obj["filename"], where),) if has_figure else (),
            prompt=str(obj["question"]),
            truth={**key, "visual_input": str(obj["visual_input"]), "gt_answer": str(obj["gt_answer"]),
                   "gt_answer_details": str(obj["gt_answer_details"])},
            subset=key["category"],
            media_type="image" if has_figure else "none",
        ))
    return unique_ids(questions, data_path)


def _is_correct_by_judge(question: Question, answer: str, judge: Callable[[str], str]) -> tuple[bool, str]:
    prompt = JUDGE_PROMPT.format(question=question.prompt, reference=question.truth["gt_answer_details"],
                                 prediction=answer)
    verdict = parse_judgement(judge(prompt))
    return verdict == "correct" or (verdict == "unclear" and _no_figure_vs(question.truth)), verdict


def _no_figure_vs(t: dict) -> bool:
    # utils.py tests category VS and figure_id 0 (in the real file exactly the visual_input 0 questions).
    return t["category"] == "VS" and t["figure_id"] == "0"


def _all_right_share(groups: dict[tuple, bool]) -> float:
    return 100 * safe_div(sum(groups.values()), len(groups))


def _accuracies(questions: list[Question], correct: list[bool]) -> dict:
    """aAcc, fAcc, qAcc, easy/hard aAcc and the yes/no bias, as tianyi-lab/HallusionBench utils.py."""
    figures: dict[tuple, list[bool]] = {}
    pairs: dict[tuple, bool] = {}
    easy: dict[tuple, bool] = {}
    hard: dict[tuple, bool] = {}
    for q, ok in zip(questions, correct):
        t = q.truth
        if not _no_figure_vs(t):  # get_eval_fig
            figures.setdefault((t["category"], t["subcategory"], t["set_id"], t["figure_id"]), []).append(ok)
        key = (t["category"], t["subcategory"], t["set_id"], t["question_id"])
        pairs[key] = pairs.get(key, True) and ok  # get_eval_pair_all
        # get_eval_pair_easy / _hard: the leaderboard's "easy aAcc" and "hard aAcc" are these per-group
        # accuracies over the questions on original or no figures (easy) and on edited figures (hard).
        split = hard if t["visual_input"] == "2" else easy
        split[key] = split.get(key, True) and ok
    all_right = [all(v) for v in figures.values()]
    none_right = [not any(v) for v in figures.values()]
    # yes_ratio_stats: the predicted answer is read back from correctness: yes when right about a "1"
    # or wrong about a "0". Pct Diff = predicted-yes share - gold-yes share; FP Ratio = share of the
    # wrong answers whose gold answer is "0" (i.e. a wrong "yes").
    gold_yes = [t.truth["gt_answer"] == "1" for t in questions]
    said_yes = [ok == gy for ok, gy in zip(correct, gold_yes)]
    wrong_gold = [gy for ok, gy in zip(correct, gold_yes) if not ok]
    return {
        "aAcc": 100 * safe_div(sum(correct), len(correct)),
        "fAcc": 100 * safe_div(sum(all_right), len(figures)),
        "qAcc": _all_right_share(pairs),
        "easy_aAcc": _all_right_share(easy),
        "hard_aAcc": _all_right_share(hard),
        "yes_no_pct_diff": 100 * (safe_div(sum(said_yes), len(said_yes)) - safe_div(sum(gold_yes), len(gold_yes))),
        "yes_no_fp_ratio": 100 * safe_div(sum(not gy for gy in wrong_gold), len(wrong_gold)),
        "figure_inconsistent": 100 * safe_div(len(figures) - sum(all_right) - sum(none_right), len(figures)),
        "figure_wrong": 100 * safe_div(sum(none_right), len(figures)),
        "figure_score": 100 * safe_div(sum(sum(v) / len(v) for v in figures.values()), len(figures)),
        "n": len(correct), "n_figures": len(figures), "n_question_groups": len(pairs),
        "n_easy_groups": len(easy), "n_hard_groups": len(hard),
    }


def score(questions: list[Question], predictions: dict[str, str], mode: str = "rule",
          judge: Callable[[str], str] | None = None, judge_name: str = "local judge") -> dict:
    answers = answers_for(questions, predictions)
    verdicts: Counter = Counter()
    if mode == "rule":
        gold = {"1": "yes", "0": "no"}
        correct = [extract_yes_no(a) == gold[q.truth["gt_answer"]] for q, a in zip(questions, answers)]
        scoring = "rule-based yes/no extraction (VLMEvalKit style; not the official GPT-4 judged metric)"
    elif mode == "judge":
        if judge is None:
            raise MMAlignError("HallusionBench mode=judge needs a judge: judge(prompt_text) -> str")
        correct = []
        for q, a in zip(questions, answers):
            ok, verdict = _is_correct_by_judge(q, a, judge)
            correct.append(ok)
            verdicts[verdict] += 1
        scoring = f"{judge_name} with the official judge prompt"
    else:
        raise MMAlignError(f"HallusionBench mode must be 'rule' or 'judge', got {mode!r}")
    subsets = {}
    for category in sorted({q.subset for q in questions}):
        picked = [(q, ok) for q, ok in zip(questions, correct) if q.subset == category]
        subsets[category] = _accuracies([q for q, _ in picked], [ok for _, ok in picked])
    result = {"benchmark": "hallusionbench", "scoring": scoring, "overall": _accuracies(questions, correct),
              "subsets": subsets}
    if verdicts:
        result["judge_verdicts"] = dict(verdicts)
    return result
