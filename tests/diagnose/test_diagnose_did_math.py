"""DID numbers on a three-answer world whose probabilities are known.

    answer   pi_ref   pi     pi/pi_ref
    a        1/2      1/4    1/2
    b        1/4      1/4    1
    c        1/4      1/2    2          Z = 3.5, q = (1/7, 2/7, 4/7), H(q) = ln 7 - (10/7) ln 2
"""

from __future__ import annotations

import math

import pytest

from mmalign.diagnose.did_math import (
    entropy_importance,
    entropy_over_samples,
    first_of_each,
    pair_quantities,
    rejection_weights,
)

REF = {"a": 0.5, "b": 0.25, "c": 0.25}
POL = {"a": 0.25, "b": 0.25, "c": 0.5}
H_Q = math.log(7) - 10 / 7 * math.log(2)


def _logs(texts, table):
    return [math.log(table[t]) for t in texts]


def test_pair_quantities():
    # chosen c, rejected a: r_w = ln 2, r_l = ln(1/2); margin = ln 4; p = sigmoid(0.5 ln 4) = 2 / 3
    out = pair_quantities((math.log(0.5), math.log(0.25)), (math.log(0.25), math.log(0.5)), (2, 4), beta=0.5)
    assert out["r_chosen"] == pytest.approx(math.log(2))
    assert out["r_rejected"] == pytest.approx(-math.log(2))
    assert out["margin"] == pytest.approx(math.log(4))
    assert out["p_chosen"] == pytest.approx(2 / 3)
    # per token: ln 2 / 2 + ln 2 / 4
    assert out["margin_per_token"] == pytest.approx(0.75 * math.log(2))


def test_q_over_the_distinct_samples():
    texts = ["a", "a ", "b", "c"]  # "a " is the same answer as "a"
    assert first_of_each(texts) == [0, 0, 2, 3]
    r = [p - q for p, q in zip(_logs(["a", "a", "b", "c"], POL), _logs(["a", "a", "b", "c"], REF))]
    summary, q = entropy_over_samples(r, texts)
    assert q == pytest.approx([1 / 7, 1 / 7, 2 / 7, 4 / 7])
    assert summary["distinct"] == 3
    assert summary["entropy"] == pytest.approx(H_Q)
    assert summary["entropy_normalised"] == pytest.approx(H_Q / math.log(3))


def test_one_distinct_answer_has_zero_entropy_and_no_normalised_value():
    summary, q = entropy_over_samples([0.3, 0.3], ["x", "x"])
    assert (summary["entropy"], summary["entropy_normalised"], q) == (0.0, None, [1.0, 1.0])


def test_equal_ratios_give_the_uniform_distribution():
    summary, _ = entropy_over_samples([1.5, 1.5, 1.5, 1.5], ["a", "b", "c", "d"])
    assert summary["entropy"] == pytest.approx(math.log(4))
    assert summary["entropy_normalised"] == pytest.approx(1.0)


def test_importance_estimate_from_reference_draws_is_exact_when_the_draws_match_pi_ref():
    draws = ["a", "a", "b", "c"]  # frequencies 1/2, 1/4, 1/4 = pi_ref
    summary, log_q = entropy_importance(_logs(draws, POL), _logs(draws, REF), "ref")
    # weights pi / pi_ref^2: a 1, a 1, b 4, c 8 -> Z^ = 14 / 4 = 3.5; ESS = 14^2 / (1 + 1 + 16 + 64)
    assert math.exp(summary["log_z"]) == pytest.approx(3.5)
    assert summary["entropy"] == pytest.approx(H_Q)
    assert summary["ess"] == pytest.approx(196 / 82)
    assert [math.exp(v) for v in log_q] == pytest.approx([1 / 7, 1 / 7, 2 / 7, 4 / 7])


def test_importance_estimate_from_policy_draws_is_exact_when_the_draws_match_pi():
    draws = ["a", "b", "c", "c"]  # frequencies 1/4, 1/4, 1/2 = pi
    summary, _ = entropy_importance(_logs(draws, POL), _logs(draws, REF), "policy")
    # weights 1 / pi_ref: 2, 4, 4, 4 -> Z^ = 3.5
    assert math.exp(summary["log_z"]) == pytest.approx(3.5)
    assert summary["entropy"] == pytest.approx(H_Q)


def test_rejection_weights():
    # beta = 1: pi_ref^2 / pi = a (1/4)/(1/4) = 1, b (1/16)/(1/4) = 1/4, c (1/16)/(1/2) = 1/8 -> (8, 2, 1) / 11
    texts = ["a", "b", "c", "b"]
    w = rejection_weights(_logs(texts, POL), _logs(texts, REF), texts, beta=1.0)
    assert w == pytest.approx([8 / 11, 2 / 11, 1 / 11, 2 / 11])
