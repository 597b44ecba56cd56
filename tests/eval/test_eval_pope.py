import json

import pytest

from mmalign.eval import BENCHMARKS, score_predictions
from mmalign.eval.pope import parse_answer


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.mark.parametrize("text, parsed", [
    ("Yes.", "yes"), ("yes, there is", "yes"), ("No, there is not", "no"), ("No.", "no"),
    ("There is not a cat.", "no"), ("Yes, there is a dog. No cat.", "yes"),
    ("NO", "yes"), ("Not at all", "yes"),  # the official rule is case-sensitive on exact words
])
def test_answers_parse_as_the_official_script(text, parsed):
    assert parse_answer(text) == parsed


def test_pope_metrics_worked_by_hand(tmp_path):
    labels = {"random": ["yes", "yes", "no", "no"], "adversarial": ["yes", "no", "no"]}
    for split, split_labels in labels.items():
        write_jsonl(tmp_path / f"coco_pope_{split}.json", [
            {"question_id": i + 1, "image": f"COCO_{i}.jpg", "text": "Is there a dog in the image?", "label": lab}
            for i, lab in enumerate(split_labels)])
    questions = BENCHMARKS["pope"].read_questions(tmp_path, tmp_path / "val2014")
    assert [q.id for q in questions][:2] == ["adversarial/1", "adversarial/2"]
    assert questions[0].media == (str(tmp_path / "val2014" / "COCO_0.jpg"),)
    answers = {
        # random: yes->TP, yes->FN, no->FP, no->TN
        "random/1": "Yes.", "random/2": "No, there is not", "random/3": "yes, there is", "random/4": "No.",
        # adversarial: yes->TP, no->TN ("not"), no->FP ("NO" is not an official "no" word)
        "adversarial/1": "Yes, there is a dog. No cat.", "adversarial/2": "There is not a cat.",
        "adversarial/3": "NO",
    }
    m = score_predictions("pope", questions, answers)
    r = m["subsets"]["random"]
    # TP=FN=FP=TN=1: acc 2/4, precision 1/2, recall 1/2, F1 0.5, yes-ratio 2/4
    assert (r["tp"], r["fn"], r["fp"], r["tn"]) == (1, 1, 1, 1)
    for key in ("accuracy", "precision", "recall", "f1", "yes_ratio"):
        assert r[key] == pytest.approx(50.0)
    a = m["subsets"]["adversarial"]
    # TP=1, TN=1, FP=1, FN=0: acc 2/3, precision 1/2, recall 1/1, F1 2*.5*1/1.5 = 2/3, yes-ratio 2/3
    assert (a["tp"], a["fn"], a["fp"], a["tn"]) == (1, 0, 1, 1)
    assert a["accuracy"] == pytest.approx(200 / 3)
    assert a["precision"] == pytest.approx(50.0)
    assert a["recall"] == pytest.approx(100.0)
    assert a["f1"] == pytest.approx(200 / 3)
    assert a["yes_ratio"] == pytest.approx(200 / 3)
    o = m["overall"]  # unweighted mean of the two splits
    assert o["accuracy"] == pytest.approx((50 + 200 / 3) / 2)
    assert o["precision"] == pytest.approx(50.0)
    assert o["recall"] == pytest.approx(75.0)
    assert o["f1"] == pytest.approx((50 + 200 / 3) / 2)
    assert o["yes_ratio"] == pytest.approx((50 + 200 / 3) / 2)
    assert o["n"] == 7 and m["missing_answers"] == 0
    json.dumps(m)  # JSON-able
