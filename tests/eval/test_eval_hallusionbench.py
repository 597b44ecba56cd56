import json

import pytest

from mmalign.eval import BENCHMARKS, score_predictions
from mmalign.eval.hallusionbench import extract_yes_no, parse_judgement


def record(cat, sub, set_id, fig, qid, vi, gt, filename):
    return {"category": cat, "subcategory": sub, "visual_input": vi, "set_id": set_id, "figure_id": fig,
            "question_id": qid, "question": f"Question {qid}?", "gt_answer_details": f"Details {qid}",
            "gt_answer": gt, "filename": filename}


def make_questions(tmp_path):
    records = [
        record("VD", "ocr", "0", "0", "0", "1", "1", "./hallusion_bench/VD/ocr/0_0.png"),
        record("VD", "ocr", "0", "1", "0", "2", "0", "./hallusion_bench/VD/ocr/0_1.png"),
        record("VD", "ocr", "0", "0", "1", "1", "0", "./hallusion_bench/VD/ocr/0_0.png"),
        record("VS", "chart", "1", "0", "0", "0", "1", None),
        record("VS", "chart", "1", "1", "0", "1", "1", "./hallusion_bench/VS/chart/1_1.png"),
    ]
    path = tmp_path / "HallusionBench.json"
    path.write_text(json.dumps(records, indent=2))
    return BENCHMARKS["hallusionbench"].read_questions(path, tmp_path)


ANSWERS = {"VD_ocr_0_0_0": "Yes.", "VD_ocr_0_1_0": "No, there is not", "VD_ocr_0_0_1": "yes, there is",
           "VS_chart_1_0_0": "I cannot tell.", "VS_chart_1_1_0": "yes"}


def test_rule_mode_worked_by_hand(tmp_path):
    questions = make_questions(tmp_path)
    assert questions[3].media == () and questions[3].media_type == "none"
    assert questions[0].media == (str(tmp_path / "hallusion_bench/VD/ocr/0_0.png"),)
    m = score_predictions("hallusionbench", questions, ANSWERS)
    assert m["scoring"].startswith("rule-based")
    # correct: [yes=1 T, no=0 T, yes vs 0 F, unknown F, yes=1 T] -> aAcc 3/5
    # figures (VS without figure left out): VD/0/0 {T,F} F, VD/0/1 T, VS/1/1 T -> fAcc 2/3
    # question groups: VD q0 {T,T} T, VD q1 F, VS q0 {F,T} F -> qAcc 1/3
    o = m["overall"]
    assert (o["aAcc"], o["fAcc"], o["qAcc"]) == pytest.approx((60, 200 / 3, 100 / 3))
    vd, vs = m["subsets"]["VD"], m["subsets"]["VS"]
    assert (vd["aAcc"], vd["fAcc"], vd["qAcc"]) == pytest.approx((200 / 3, 50, 50))
    assert (vs["aAcc"], vs["fAcc"], vs["qAcc"]) == pytest.approx((50, 100, 0))


def test_judge_mode_counts_unclear_as_correct_for_vs_without_figure(tmp_path):
    prompts = []

    def judge(prompt):
        prompts.append(prompt)
        if "cannot tell" in prompt:
            return "unclear"
        return "Incorrect" if "yes, there is" in prompt else "Correct."

    m = score_predictions("hallusionbench", make_questions(tmp_path), ANSWERS, mode="judge", judge=judge)
    assert "Reference answer: Details 0" in prompts[0] and prompts[0].endswith("Prediction answer:Yes.\nOutput:")
    # correct: [T, T, F, T (VS-0 unclear), T] -> aAcc 4/5; figures as before but VS/1/1 T -> 2/3;
    # question groups: VD q0 T, VD q1 F, VS q0 {T,T} T -> 2/3
    o = m["overall"]
    assert (o["aAcc"], o["fAcc"], o["qAcc"]) == pytest.approx((80, 200 / 3, 200 / 3))
    assert m["judge_verdicts"] == {"correct": 3, "incorrect": 1, "unclear": 1}
    assert "local judge" in m["scoring"]


@pytest.mark.parametrize("text, parsed", [
    ("Yes.", "yes"), ("yes, there is", "yes"), ("No, there is not", "no"), ("Yes and no", "unknown"),
    ("Maybe", "unknown"),
])
def test_yes_no_extraction(text, parsed):
    assert extract_yes_no(text) == parsed


def test_judgement_parsing():
    assert parse_judgement("The answer is incorrect") == "incorrect"
    assert parse_judgement("Correct") == "correct"
    assert parse_judgement("not sure") == "unclear"


def test_leaderboard_easy_hard_and_bias_as_official_utils(tmp_path):
    answers = dict(ANSWERS, VS_chart_1_1_0="No, it is not")
    m = score_predictions("hallusionbench", make_questions(tmp_path), answers)
    # correct: [VD q0 fig0 T, VD q0 fig1 (edited, visual_input 2) T, VD q1 fig0 F, VS-0 F, VS q0 fig1 F]
    o = m["overall"]
    # get_eval_pair_easy (visual_input != 2), grouped by (category, subcategory, set_id, question_id):
    # VD q0 {T}, VD q1 {F}, VS q0 {F, F} -> 1/3. get_eval_pair_hard (visual_input 2): VD q0 {T} -> 1/1
    assert (o["easy_aAcc"], o["hard_aAcc"]) == pytest.approx((100 / 3, 100))
    assert (o["n_easy_groups"], o["n_hard_groups"]) == (3, 1)
    # yes_ratio_stats: gold yes [1, 0, 0, 1, 1] -> 3/5; said yes = (correct == gold yes) [1, 0, 1, 0, 0] -> 2/5;
    # Pct Diff = 2/5 - 3/5 = -20; wrong answers' gold [0, 1, 1] -> FP Ratio = 1/3
    assert o["yes_no_pct_diff"] == pytest.approx(-20)
    assert o["yes_no_fp_ratio"] == pytest.approx(100 / 3)
    # get_eval_fig (VS figure 0 left out): VD fig0 {T, F} inconsistent, VD fig1 {T} right, VS fig1 {F} wrong;
    # score = mean share right = (1/2 + 1 + 0) / 3
    assert (o["fAcc"], o["figure_inconsistent"], o["figure_wrong"]) == pytest.approx((100 / 3, 100 / 3, 100 / 3))
    assert o["figure_score"] == pytest.approx(50)
    # per category: VD easy groups q0 {T}, q1 {F} -> 50, hard q0 {T} -> 100; VS easy {F, F} -> 0, no hard
    assert (m["subsets"]["VD"]["easy_aAcc"], m["subsets"]["VD"]["hard_aAcc"]) == pytest.approx((50, 100))
    assert (m["subsets"]["VS"]["easy_aAcc"], m["subsets"]["VS"]["hard_aAcc"]) == pytest.approx((0, 0))
