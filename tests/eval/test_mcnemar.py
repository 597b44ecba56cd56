"""McNemar's exact test and the synthetic suites' per-question right/wrong, against hand-worked values."""

import pytest

from mmalign.eval.base import Question
from mmalign.eval.mcnemar import mcnemar_exact
from mmalign.eval.synth import answered_right


def _paired(improved: int, worsened: int, same_right: int = 3, same_wrong: int = 2):
    before, after = {}, {}
    for i in range(improved):
        before[f"i{i}"], after[f"i{i}"] = False, True
    for i in range(worsened):
        before[f"w{i}"], after[f"w{i}"] = True, False
    for i in range(same_right):
        before[f"r{i}"], after[f"r{i}"] = True, True
    for i in range(same_wrong):
        before[f"x{i}"], after[f"x{i}"] = False, False
    return before, after


def test_counts_only_discordant_questions():
    result = mcnemar_exact(*_paired(improved=4, worsened=1))
    assert (result["n"], result["improved"], result["worsened"]) == (10, 4, 1)
    # 5 discordant, split 4/1: 2 * (C(5,0) + C(5,1)) / 32 = 12/32
    assert result["p_value"] == pytest.approx(0.375)


def test_lopsided_split_is_significant():
    # 10/0: 2 * 1 / 1024
    assert mcnemar_exact(*_paired(improved=10, worsened=0))["p_value"] == pytest.approx(2 / 1024)
    # 7/3 of 10: 2 * (1 + 10 + 45 + 120) / 1024 = 352/1024
    assert mcnemar_exact(*_paired(improved=7, worsened=3))["p_value"] == pytest.approx(352 / 1024)


def test_even_split_and_no_change_give_one():
    assert mcnemar_exact(*_paired(improved=3, worsened=3))["p_value"] == 1.0
    assert mcnemar_exact(*_paired(improved=0, worsened=0))["p_value"] == 1.0


def test_different_questions_are_an_error():
    with pytest.raises(ValueError, match="same questions"):
        mcnemar_exact({"a": True}, {"b": True})


def _q(qid, truth, subset="s"):
    return Question(id=qid, media=(), prompt="p", truth=truth, subset=subset, media_type="image")


def test_answered_right_uses_each_suites_rule():
    pope = [_q("1", {"label": "no", "kind": "object"}), _q("2", {"label": "yes", "kind": "object"})]
    # POPE's parser: "No, there is not." is no; anything without no/not is yes
    assert answered_right("synth-pope", pope, {"1": "No, there is not.", "2": "no."}) == {"1": True, "2": False}
    multi = [_q("a", {"kind": "colour", "answer": "red", "distractor_answers": ["blue"]}),
             _q("b", {"kind": "shape", "answer": "circle", "distractor_answers": []})]
    assert answered_right("synth-multi", multi, {"a": "Red.", "b": "a square."}) == {"a": True, "b": False}
    with pytest.raises(ValueError, match="synth-video"):
        answered_right("synth-video", multi, {"a": "", "b": ""})
