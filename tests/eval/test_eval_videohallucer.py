import json

import pytest

from mmalign.eval import BENCHMARKS, score_predictions
from mmalign.eval.videohallucer import is_hit


def make_dataset(tmp_path):
    pairs = {
        "object_relation": [("a.mp4", "a.mp4"), ("b.mp4", "b.mp4")],
        "temporal": [("c.mp4", "c.mp4")],
    }
    for subset, videos in pairs.items():
        (tmp_path / subset).mkdir()
        records = [{"basic": {"video": v1, "question": "Is the cat on the mat?", "answer": "yes"},
                    "hallucination": {"video": v2, "question": "Is the dog on the mat?", "answer": "no"},
                    "type": "relation"} for v1, v2 in videos]
        (tmp_path / subset / f"{subset}.json").write_text(json.dumps(records, indent=2))
    return BENCHMARKS["videohallucer"].read_questions(tmp_path, None)


ANSWERS = {
    "object_relation/0/basic": "Yes.", "object_relation/0/hallucination": "No, there is not",
    "object_relation/1/basic": "yes, there is", "object_relation/1/hallucination": "Yes, it does",
    "temporal/0/basic": "No.", "temporal/0/hallucination": "no",
}


def test_reads_pairs_with_official_prompt_and_video_layout(tmp_path):
    questions = make_dataset(tmp_path)
    assert len(questions) == 6
    q = questions[0]
    assert q.prompt == "Is the cat on the mat?\nAnswer the question using 'yes' or 'no'."
    assert q.media == (str(tmp_path / "object_relation" / "videos" / "a.mp4"),)
    assert q.media_type == "video"


def test_paired_accuracy_worked_by_hand_regex_rule(tmp_path):
    m = score_predictions("videohallucer", make_dataset(tmp_path), ANSWERS)
    # object_relation: basic hits 2/2, halluc hits 1/2 ("Yes, it does" has no whole word "no"), pairs 1/2
    o = m["subsets"]["object_relation"]
    assert (o["basic_accuracy"], o["halluc_accuracy"], o["accuracy"]) == pytest.approx((100, 50, 50))
    # temporal: basic "No." misses "yes", halluc "no" hits: 0, 100, pairs 0
    t = m["subsets"]["temporal"]
    assert (t["basic_accuracy"], t["halluc_accuracy"], t["accuracy"]) == pytest.approx((0, 100, 0))
    # overall = unweighted mean over subsets: (50+0)/2, (100+0)/2, (50+100)/2
    assert m["overall"]["accuracy"] == pytest.approx(25)
    assert m["overall"]["basic_accuracy"] == pytest.approx(50)
    assert m["overall"]["halluc_accuracy"] == pytest.approx(75)


def test_first_sentence_rule_of_the_earlier_revision(tmp_path):
    m = score_predictions("videohallucer", make_dataset(tmp_path), ANSWERS, match="first_sentence")
    # only "Yes." (-> "yes") and "no" match exactly: object_relation basic 1/2, halluc 0/2; temporal 0, 1/1
    o, t = m["subsets"]["object_relation"], m["subsets"]["temporal"]
    assert (o["basic_accuracy"], o["halluc_accuracy"], o["accuracy"]) == pytest.approx((50, 0, 0))
    assert (t["basic_accuracy"], t["halluc_accuracy"], t["accuracy"]) == pytest.approx((0, 100, 0))
    assert m["overall"]["accuracy"] == pytest.approx(0)
    assert m["overall"]["basic_accuracy"] == pytest.approx(25)
    assert m["overall"]["halluc_accuracy"] == pytest.approx(50)


@pytest.mark.parametrize("text, answer, hit", [
    ("Yes.", "yes", True), ("yes, there is", "yes", True), ("No, there is not", "no", True),
    ("No, there is not", "yes", False), ("Nope", "no", False),
])
def test_regex_hits(text, answer, hit):
    assert is_hit(text, answer) is hit


def test_skip_drops_incomplete_pairs(tmp_path):
    answers = dict(ANSWERS)
    del answers["temporal/0/basic"]
    m = score_predictions("videohallucer", make_dataset(tmp_path), answers, on_bad_record="skip")
    assert m["missing_answers"] == 1 and m["incomplete_pairs"] == 1
    assert "temporal" not in m["subsets"]
    assert m["overall"]["accuracy"] == pytest.approx(50)


def test_bias_numbers_as_official_evaluation_bias(tmp_path):
    m = score_predictions("videohallucer", make_dataset(tmp_path), ANSWERS)
    # Per pair (B = "yes" found in the basic answer, H = "no" found in the hallucinated one):
    # object_relation (T,T), (T,F); temporal (F,T). evaluation_bias.py pools the main subsets:
    # n_yes = #B + #(B and not H) = 2 + 1 = 3; n_no = #H + #(H and not B) = 2 + 1 = 3;
    # n = #not B + #not H = 1 + 1 = 2; fp = #(B and not H) = 1; 3 pairs.
    # yes_diff = (3 - 3) / 6 = 0, no_diff = 0, fp_ratio = 1/2, halluc_score = fp / #B = 1/2
    o = m["overall"]
    assert (o["yes_diff"], o["no_diff"], o["fp_ratio"], o["halluc_score"]) == pytest.approx((0, 0, 50, 50))
    # evaluation_bias_sep.py, per subset. object_relation: n_yes 3, n_no 1, n 1, fp 1 over 2 pairs ->
    # yes_diff (3-2)/4 = 25, no_diff (1-2)/4 = -25, fp_ratio 1/1, halluc_score 1/2
    r = m["subsets"]["object_relation"]
    assert (r["yes_diff"], r["no_diff"], r["fp_ratio"], r["halluc_score"]) == pytest.approx((25, -25, 100, 50))
    # temporal: n_yes 0, n_no 2, n 1, fp 0 over 1 pair -> -50, 50, 0; halluc_score 0/0 -> 0 (official: crash)
    t = m["subsets"]["temporal"]
    assert (t["yes_diff"], t["no_diff"], t["fp_ratio"], t["halluc_score"]) == pytest.approx((-50, 50, 0, 0))


def test_interaction_subset_is_read_and_kept_out_of_the_mean(tmp_path):
    make_dataset(tmp_path)
    (tmp_path / "interaction").mkdir()
    (tmp_path / "interaction" / "interaction.json").write_text(json.dumps([  # no "type", as in the repo
        {"basic": {"video": "0.mp4", "question": "Doesn't he?", "answer": "yes"},
         "hallucination": {"video": "0.mp4", "question": "Does he?", "answer": "no"}}]))
    questions = BENCHMARKS["videohallucer"].read_questions(tmp_path, None)
    answers = dict(ANSWERS, **{"interaction/0/basic": "yes", "interaction/0/hallucination": "no"})
    m = score_predictions("videohallucer", questions, answers)
    assert m["subsets"]["interaction"]["accuracy"] == pytest.approx(100)
    assert m["overall"]["accuracy"] == pytest.approx(25)  # still (50 + 0) / 2
