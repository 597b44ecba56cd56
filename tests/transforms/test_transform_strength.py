"""preference_strength (Secrets of RLHF II): ensemble mean/std, flip the weakest, soft labels."""

from __future__ import annotations

import copy
import math

import pytest

from mmalign.data.transforms import preference_strength


def rec(i, models):
    return {"id": f"r{i}", "chosen": f"c{i}", "rejected": f"x{i}", "scores": {"reward_models": models}}


# strengths (mean of chosen - rejected over 2 models):
#   r0: (3-1, 2-2) -> d = (2, 0), mean 1,    std 1
#   r1: (0-2, 1-2) -> d = (-2, -1), mean -1.5, std 0.5   <- weakest of five: flipped (floor(0.2*5) = 1)
#   r2: (1-1, 1-2) -> d = (0, -1), mean -0.5, std 0.5    <- negative, not flipped: soft label
#   r3: (4-0, 4-0) -> d = (4, 4), mean 4,    std 0
#   r4: (2-1, 5-2) -> d = (1, 3), mean 2,    std 1
RECORDS = [rec(0, [[3, 1], [2, 2]]), rec(1, [[0, 2], [1, 2]]), rec(2, [[1, 1], [1, 2]]),
           rec(3, [[4, 0], [4, 0]]), rec(4, [[2, 1], [5, 2]])]


def test_strength_flip_and_soft_labels():
    before = copy.deepcopy(RECORDS)
    out = preference_strength(RECORDS)
    assert RECORDS == before

    def meta(mean, std, flipped):
        return {"preference_strength": mean, "preference_strength_std": std, "strength_flipped": flipped,
                "soft_label": mean < 0}

    assert out[0] == {**before[0], "meta": meta(1.0, 1.0, False)}
    assert out[1] == {"id": "r1", "chosen": "x1", "rejected": "c1", "scores": {"reward_models": [[2, 0], [2, 1]]},
                      "meta": meta(1.5, 0.5, True)}
    assert out[2] == {**before[2], "meta": meta(-0.5, 0.5, False)}
    assert out[2]["meta"]["soft_label"] is True
    assert out[3] == {**before[3], "meta": meta(4.0, 0.0, False)}
    assert out[4] == {**before[4], "meta": meta(2.0, 1.0, False)}


def test_flip_fraction_options_and_errors():
    out = preference_strength(RECORDS, flip_fraction=0.4, soft_labels=False)
    assert [r["meta"]["strength_flipped"] for r in out] == [False, True, True, False, False]
    assert [r["meta"]["preference_strength"] for r in out] == [1.0, 1.5, 0.5, 4.0, 2.0]
    assert "soft_label" not in out[0]["meta"]
    assert not any(r["meta"]["strength_flipped"] for r in preference_strength(RECORDS, flip_fraction=0.0))
    three = [rec(0, [[1, 0], [2, 0], [6, 0]])]  # d = (1, 2, 6): mean 3, std sqrt(14/3)
    assert math.isclose(preference_strength(three)[0]["meta"]["preference_strength_std"], math.sqrt(14 / 3))
    with pytest.raises(ValueError, match="'r9': needs scores.reward_models"):
        preference_strength([{"id": "r9", "chosen": "a", "rejected": "b"}])
    with pytest.raises(ValueError, match="flip_fraction"):
        preference_strength(RECORDS, flip_fraction=1.5)
