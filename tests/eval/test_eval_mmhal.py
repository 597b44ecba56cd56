import json

import pytest

from mmalign.eval import BENCHMARKS, score_predictions
from mmalign.eval.mmhal import parse_rating

TYPES = ["attribute", "adversarial", "comparison", "counting", "relation", "environment", "holistic", "other"]


def make_questions(tmp_path):
    records = [{"question_type": TYPES[i % 8], "question_topic": "t", "image_id": str(i),
                "image_src": f"https://example.org/img/{i}.jpg", "image_content": ["Dog", "Tree"],
                "question": f"What is in picture {i}?", "gt_answer": "A dog."} for i in range(9)]
    path = tmp_path / "response_template.json"
    path.write_text(json.dumps(records, indent=2))
    return BENCHMARKS["mmhal"].read_questions(path, None)


def test_mmhal_scores_worked_by_hand(tmp_path):
    questions = make_questions(tmp_path)
    assert questions[0].media == (str(tmp_path / "images" / "0.jpg"),)
    answers = {"0": "A", "1": "B", "2": "C", **{str(i): "E" for i in range(3, 8)}, "8": "D"}
    replies = {"A": "Good. Rating: 5", "B": "rating: 2", "C": "Rating: 3 or Rating: 4", "D": "Rating: 6",
               "E": "Rating: 4, somewhat informative"}
    seen = []

    def judge(prompt):
        seen.append(prompt)
        return replies[prompt.rstrip().rsplit("\n", 1)[-1]]

    m = score_predictions("mmhal", questions, answers, judge=judge)
    assert "### Image Contents\nDog, Tree" in seen[0] and "Rating: 6, very informative" in seen[0]
    # ratings [5, 2, 0 (two ratings found), 4, 4, 4, 4, 4, 6]: sum 33 over 9
    assert m["ratings"]["2"] == 0
    assert m["overall"]["average_score"] == pytest.approx(33 / 9)
    # below 3: the 2 and the 0 -> 2/9
    assert m["overall"]["hallucination_rate"] == pytest.approx(200 / 9)
    # type = position % 8: position 8 is an "attribute" question again -> (5 + 6) / 2
    assert m["subsets"]["attribute"] == {"average_score": 5.5, "hallucination_rate": 0.0, "n": 2}
    assert m["subsets"]["adversarial"]["average_score"] == 2.0
    assert m["subsets"]["adversarial"]["hallucination_rate"] == 100.0
    assert m["subsets"]["comparison"]["average_score"] == 0.0
    assert m["subsets"]["other"]["average_score"] == 4.0
    assert "local judge" in m["scoring"] and m["official_count"] is False


def test_rating_parsing():
    assert parse_rating("Explanation... Rating: 3, not informative") == 3
    assert parse_rating("no rating here") == 0
    assert parse_rating("RATING: 6") == 6
