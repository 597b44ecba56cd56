"""fdpo_flip and score_gap_filter."""

from __future__ import annotations

import copy

import pytest

from mmalign.data.transforms import fdpo_flip, score_gap_filter


def test_fdpo_flip_swaps_only_hallucinated_over_factual():
    records = [
        {"id": "a", "chosen": "w", "rejected": "l", "factuality": {"chosen": 1, "rejected": 0}, "scores": {"chosen": 5}},
        {"id": "b", "chosen": "w", "rejected": "l", "factuality": {"chosen": 0, "rejected": 1}},
        {"id": "c", "chosen": "w", "rejected": "l", "factuality": {"chosen": 1, "rejected": 1}, "meta": {"k": 1}},
    ]
    before = copy.deepcopy(records)
    out = fdpo_flip(records)
    assert records == before
    assert out == [
        {"id": "a", "chosen": "l", "rejected": "w", "factuality": {"chosen": 0, "rejected": 1},
         "scores": {"rejected": 5}, "meta": {"fdpo_flipped": True}},
        before[1], before[2],
    ]


def test_fdpo_flip_missing_labels_and_dove_prompts():
    bare = {"id": "x", "chosen": "w", "rejected": "l"}
    with pytest.raises(ValueError, match="'x': needs factuality"):
        fdpo_flip([bare])
    assert fdpo_flip([bare], missing="keep") == [bare]
    dove = {"prompt": "p1", "rejected_prompt": "p2", "chosen": "w", "rejected": "l",
            "factuality": {"chosen": 1, "rejected": 0}}
    out = fdpo_flip([dove])[0]
    assert (out["prompt"], out["rejected_prompt"], out["chosen"], out["rejected"]) == ("p2", "p1", "l", "w")


def test_score_gap_filter_keeps_gaps_above_threshold_with_higher_score_chosen():
    records = [
        {"id": "a", "chosen": "x", "rejected": "y", "scores": {"chosen": 8, "rejected": 5}},    # gap 3: kept
        {"id": "b", "chosen": "x", "rejected": "y", "scores": {"chosen": 7, "rejected": 5}},    # gap 2: dropped
        {"id": "c", "chosen": "x", "rejected": "y", "scores": {"chosen": 2, "rejected": 6.5}},  # -4.5: swapped
    ]
    before = copy.deepcopy(records)
    out = score_gap_filter(records)
    assert records == before
    assert out == [
        {"id": "a", "chosen": "x", "rejected": "y", "scores": {"chosen": 8, "rejected": 5}, "meta": {"score_gap": 3.0}},
        {"id": "c", "chosen": "y", "rejected": "x", "scores": {"chosen": 6.5, "rejected": 2},
         "meta": {"score_gap": 4.5}},
    ]
    assert [r["id"] for r in score_gap_filter(records, orient=False)] == ["a"]
    assert [r["id"] for r in score_gap_filter(records, threshold=0)] == ["a", "b", "c"]
