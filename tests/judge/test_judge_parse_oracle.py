"""Reading judge replies, the oracle judge's scale and noise, and judge specs."""

import pytest

from mmalign.errors import MMAlignError
from mmalign.judge import OracleJudge, build_judge, parse_judge_spec
from mmalign.judge.parse import parse_score, parse_verdict


def test_parse_score_takes_the_last_score_on_the_scale():
    assert parse_score("The response is relevant.\nScore: 4", 5) == 4.0
    assert parse_score("Score: 2 at first ... final Score: 3.5", 5) == 3.5
    assert parse_score("score = **5**", 5) == 5.0
    assert parse_score("Score: 7", 5) is None  # off the 5-point scale
    assert parse_score("I would give it four points.", 5) is None


def test_parse_verdict_both_styles_and_ties():
    assert parse_verdict("A is more accurate. [[A]]") == 1.0
    assert parse_verdict("[[A]] ... on reflection [[B]]") == 0.0
    assert parse_verdict("They are equal: [[C]]") == 0.5
    assert parse_verdict("Overall Judgment: Answer 2 is better") == 0.0
    assert parse_verdict("Both are fine.") is None


def record(reference, *texts, rid="r"):
    return {"id": rid, "reference": reference, "candidates": [{"text": t} for t in texts]}


def test_oracle_scores_true_unclear_and_wrong_answers():
    judge = OracleJudge()
    scores = judge.score([record("Red.", "It is red.", "I cannot tell.", "Blue."),
                          record("A circle.", "Circles!", "a square"),
                          record("No.", "no, there is none", "Yes."),
                          record("It moves left.", "it moves LEFT", "It moves right."),
                          {"id": "x", "candidates": [{"text": "Red."}]}])
    assert scores == [[10.0, 5.0, 0.0], [10.0, 0.0], [10.0, 0.0], [10.0, 0.0], [None]]


def test_oracle_noise_is_seeded_per_record_and_candidate():
    recs = [record("Red.", "Red.", "Blue.", rid="a"), record("Red.", "Red.", rid="b")]
    noisy = OracleJudge(noise=2.0, seed=1).score(recs)
    assert noisy == OracleJudge(noise=2.0, seed=1).score(recs)
    assert [noisy[1]] == OracleJudge(noise=2.0, seed=1).score(recs[1:])  # independent of what came before
    assert noisy != OracleJudge(noise=2.0, seed=2).score(recs)
    assert noisy[0][0] != 10.0


def test_judge_specs_are_typed_and_checked():
    spec = parse_judge_spec("oracle:noise=1.5,seed=3,name=truth")
    assert (spec.kind, spec.name, spec.options) == ("oracle", "truth", {"noise": 1.5, "seed": 3})
    assert parse_judge_spec("pairwise:model=runs/sft/final/").name == "pairwise-final"
    assert build_judge("oracle:noise=0.5").name == "oracle"
    with pytest.raises(MMAlignError, match="unknown judge 'gpt'.*oracle"):
        parse_judge_spec("gpt")
    with pytest.raises(MMAlignError, match="bad option 'nois=1'; valid: name=, noise=0.0"):
        parse_judge_spec("oracle:nois=1")
    with pytest.raises(MMAlignError, match="noise='lots' is not a float"):
        parse_judge_spec("oracle:noise=lots")
    with pytest.raises(MMAlignError, match="needs model="):
        parse_judge_spec("pointwise:samples=3")
