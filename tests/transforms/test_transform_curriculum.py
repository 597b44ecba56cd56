"""curry_pairs and split_stages (Curry-DPO)."""

from __future__ import annotations

import copy

import pytest

from mmalign.data.transforms import apply_transforms, curry_pairs, split_stages

SCORED = [
    {"id": "q1", "prompt": "P1", "chosen": "R1", "rejected_list": ["R2", "R3", "R4"],
     "scores": {"chosen": 5, "rejected_list": [4, 3, 2]}, "domain": "chat"},
    # the best answer sits in rejected_list; a tie with the best is dropped
    {"id": "q2", "prompt": "P2", "chosen": "A", "rejected_list": ["B", "C", "D"],
     "scores": {"chosen": 6, "rejected_list": [9, 1, 9]}},
]


def test_scored_records_become_pairs_ordered_easy_to_hard():
    before = copy.deepcopy(SCORED)
    out = curry_pairs(SCORED)
    assert SCORED == before
    assert out == [
        {"id": "q1#c0", "prompt": "P1", "chosen": "R1", "rejected": "R4", "scores": {"chosen": 5, "rejected": 2.0},
         "domain": "chat", "meta": {"curriculum_stage": 0, "score_gap": 3.0}},
        {"id": "q2#c0", "prompt": "P2", "chosen": "B", "rejected": "C", "scores": {"chosen": 9.0, "rejected": 1.0},
         "meta": {"curriculum_stage": 0, "score_gap": 8.0}},
        {"id": "q1#c1", "prompt": "P1", "chosen": "R1", "rejected": "R3", "scores": {"chosen": 5, "rejected": 3.0},
         "domain": "chat", "meta": {"curriculum_stage": 1, "score_gap": 2.0}},
        {"id": "q2#c1", "prompt": "P2", "chosen": "B", "rejected": "A", "scores": {"chosen": 9.0, "rejected": 6.0},
         "meta": {"curriculum_stage": 1, "score_gap": 3.0}},
        {"id": "q1#c2", "prompt": "P1", "chosen": "R1", "rejected": "R2", "scores": {"chosen": 5, "rejected": 4.0},
         "domain": "chat", "meta": {"curriculum_stage": 2, "score_gap": 1.0}},
    ]


def test_ranked_records_use_rank_distance():
    ranked = [{"prompt": "P", "chosen": "best", "rejected_list": ["second", "third"], "meta": {"src": "oasst"}}]
    out = apply_transforms(ranked, [{"name": "curry_pairs"}])
    assert out == [
        {"prompt": "P", "chosen": "best", "rejected": "third",
         "meta": {"src": "oasst", "curriculum_stage": 0, "score_gap": 2.0}},
        {"prompt": "P", "chosen": "best", "rejected": "second",
         "meta": {"src": "oasst", "curriculum_stage": 1, "score_gap": 1.0}},
    ]


def test_min_gap_and_errors():
    assert [r["id"] for r in curry_pairs(SCORED[:1], min_gap=1.5)] == ["q1#c0", "q1#c1"]
    with pytest.raises(ValueError, match="'bad': needs a non-empty rejected_list"):
        curry_pairs([{"id": "bad", "chosen": "a", "rejected": "b"}])
    with pytest.raises(ValueError, match="one score per rejected_list entry"):
        curry_pairs([{"chosen": "a", "rejected_list": ["b"], "scores": {"chosen": 1, "rejected_list": []}}])


def test_split_stages():
    pairs = curry_pairs(SCORED)
    stages = split_stages(pairs)
    assert [[r["id"] for r in s] for s in stages] == [["q1#c0", "q2#c0"], ["q1#c1", "q2#c1"], ["q1#c2"]]
    stages[0][0]["chosen"] = "changed"
    assert pairs[0]["chosen"] == "R1"
    with pytest.raises(ValueError, match="run curry_pairs first"):
        split_stages(SCORED)
