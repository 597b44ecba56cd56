"""mmalign pairs' rules on hand-worked scores: best-worst, gap:T, ranked, win-prob (hard and sigmoid)."""

import json
import math

import pytest

from mmalign.data.schema import parse_record
from mmalign.data.transforms import apply_transforms
from mmalign.errors import MMAlignError
from mmalign.pairs.from_scores import candidate_scores, make_pairs, pairs_of, parse_rule


def rec(*scores, rid="p", judge="j"):
    cands = [{"text": f"answer {k}", **({"scores": {judge: s}} if s is not None else {})}
             for k, s in enumerate(scores)]
    return {"id": rid, "images": ["img/1.png"], "prompt": "<image>\nWhat is it?", "candidates": cands,
            "meta": {"source": "test"}}


def texts(pairs):
    return [(p["chosen"], p["rejected"]) for p in pairs]


def test_best_worst_keeps_the_earlier_of_tied_candidates_and_drops_all_tied():
    pairs, why = pairs_of(rec(3, 7, 5, 7, 3), parse_rule("best-worst"))
    assert why is None and texts(pairs) == [("answer 1", "answer 0")]
    assert pairs[0]["scores"] == {"chosen": 7, "rejected": 3}
    assert pairs[0]["meta"]["pair"] == {"rule": "best-worst", "judge": "mean", "chosen": 1, "rejected": 0}
    assert pairs_of(rec(4, 4), parse_rule("best-worst")) == ([], "all_tied")
    assert pairs_of(rec(4, None), parse_rule("best-worst")) == ([], "fewer_than_2_scored")


def test_gap_keeps_every_pair_whose_scores_differ_by_more_than_t():
    # scores 8, 5, 6, 3: differences > 2: (0,1)=3, (0,3)=5, (2,3)=3; (0,2)=2 and (1,3)=2 are not > 2
    pairs, _ = pairs_of(rec(8, 5, 6, 3), parse_rule("gap:2"))
    assert [p["id"] for p in pairs] == ["p#0-1", "p#0-3", "p#2-3"]
    assert texts(pairs) == [("answer 0", "answer 1"), ("answer 0", "answer 3"), ("answer 2", "answer 3")]
    assert [p["meta"]["score_gap"] for p in pairs] == [3, 5, 3]
    flipped, _ = pairs_of(rec(1, 9), parse_rule("gap:2"))  # the higher score is chosen whatever its index
    assert texts(flipped) == [("answer 1", "answer 0")]
    assert pairs_of(rec(5, 6), parse_rule("gap:2")) == ([], "no_pair_above_gap")


def test_ranked_lists_every_other_answer_best_first_and_curry_stages_it():
    (pair,), _ = pairs_of(rec(2, 9, 5, None, 7), parse_rule("ranked"))
    assert pair["chosen"] == "answer 1" and pair["rejected"] == "answer 0"
    assert pair["rejected_list"] == ["answer 4", "answer 2", "answer 0"]
    assert pair["scores"] == {"chosen": 9, "rejected": 2, "rejected_list": [7, 5, 2]}
    staged = apply_transforms([pair], [{"name": "curry_pairs"}])
    assert [(p["rejected"], p["meta"]["curriculum_stage"]) for p in staged] == [
        ("answer 0", 0), ("answer 2", 1), ("answer 4", 2)]  # largest gap first


def test_win_prob_counts_ties_as_half_and_includes_the_self_comparison():
    # scores 3, 7, 5, 7: P(1 > .) = (1 + 1/2 + 1 + 1/2)/4 = .75 ; P(0 > .) = (1/2 + 0 + 0 + 0)/4 = .125
    (pair,), _ = pairs_of(rec(3, 7, 5, 7), parse_rule("win-prob"))
    assert (pair["chosen"], pair["rejected"]) == ("answer 1", "answer 0")
    assert pair["scores"]["chosen_win_prob"] == 0.75 and pair["scores"]["rejected_win_prob"] == 0.125
    (soft,), _ = pairs_of(rec(0, 1), parse_rule("win-prob:sigmoid"))
    s = 1 / (1 + math.exp(-1))
    assert soft["scores"]["chosen_win_prob"] == pytest.approx((0.5 + s) / 2)
    assert soft["scores"]["rejected_win_prob"] == pytest.approx((1 - s + 0.5) / 2)


def test_scores_come_from_one_judge_or_the_mean_of_the_judges():
    r = {"id": "p", "prompt": "q", "candidates": [
        {"text": "a", "scores": {"x": 2.0, "y": 4.0}}, {"text": "b", "scores": {"y": 1.0}}, {"text": "c"}]}
    assert candidate_scores(r, None) == [3.0, 1.0, None]
    assert candidate_scores(r, "x") == [2.0, None, None]
    with pytest.raises(MMAlignError, match="unknown --rule 'worst-best'; rules: best-worst, gap:T"):
        parse_rule("worst-best")
    with pytest.raises(MMAlignError, match="gap:T needs a number"):
        parse_rule("gap:two")


def test_make_pairs_writes_valid_preference_records(tmp_path):
    data = tmp_path / "scored.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in [rec(9, 1, rid="a"), rec(3, 3, rid="b")]))
    summary = make_pairs(data, tmp_path / "out", "win-prob", judge="j")
    assert summary["pairs"] == 1 and summary["prompts_without_pairs"] == {"all_tied": 1}
    lines = (tmp_path / "out" / "pairs.jsonl").read_text().splitlines()
    record = parse_record(json.loads(lines[0]))
    assert record.scores["chosen_win_prob"] == 0.75 and record.images == ["img/1.png"]
    with pytest.raises(MMAlignError, match="no candidate has a score from judge 'k'; judges in .*: j"):
        make_pairs(data, tmp_path / "out", "gap:2", judge="k")


def test_the_same_text_scored_twice_never_makes_a_pair():
    """A noisy judge gives one answer two scores; chosen == rejected would teach nothing."""
    same = rec(7, 3, 5)
    for c in same["candidates"][:2]:
        c["text"] = "A red circle."
    assert pairs_of(same, parse_rule("best-worst")) == ([], "identical_answers")
    assert pairs_of(same, parse_rule("win-prob")) == ([], "identical_answers")
    gap_pairs, _ = pairs_of(same, parse_rule("gap:1"))  # 7 vs 3 is the same text; 7 vs 5 and 5 vs 3 are not
    assert [p["id"] for p in gap_pairs] == ["p#0-2", "p#1-2"]
