"""The graded oracle judge (mmalign/judge/graded.py): attributes right, in order; hand-worked numbers."""

from __future__ import annotations

import pytest

from mmalign.errors import MMAlignError
from mmalign.judge import build_judge, parse_judge_spec
from mmalign.judge.graded import attributes, graded_score, max_graded_score

REF = "A red circle. A blue square."


def test_attributes_are_read_in_order_and_plurals_singular():
    assert attributes("Two red circles and a BLUE square.") == (["red", "blue"], ["circle", "square"])
    assert attributes("Nothing here.") == ([], [])


@pytest.mark.parametrize("text, right", [
    ("A red circle. A blue square.", 4),    # all four
    ("A red square. A blue square.", 3),    # shape 1 wrong
    ("A blue circle. A red square.", 2),    # colours swapped: both wrong; shapes right
    ("A red circle.", 2),                   # object 2 missing: nothing for it
    ("Red.", 1),                            # one colour, first place
    ("A green triangle. A yellow cross.", 0),
    ("A red circle. A blue square. A blue square.", 4),  # a third object is not in the reference: ignored
])
def test_graded_score_counts_matches_by_position(text, right):
    assert graded_score(text, REF) == right
    assert max_graded_score(REF) == 4


def test_the_judge_scores_candidates_and_skips_records_without_reference():
    judge = build_judge("graded")
    assert judge.name == "graded"
    records = [{"id": "a", "reference": REF, "candidates": [{"text": "A red circle. A blue cross."}, {"text": "No."}]},
               {"id": "b", "candidates": [{"text": "A red circle."}]}]
    assert judge.score(records) == [[3.0, 0.0], [None]]


def test_noise_is_seeded_per_candidate_and_validated():
    records = [{"id": "a", "reference": REF, "candidates": [{"text": REF}, {"text": REF}]}]
    first = build_judge("graded:noise=1,seed=3").score(records)
    assert first == build_judge("graded:noise=1,seed=3").score(records)
    assert first[0][0] != first[0][1] and all(abs(v - 4) < 5 for v in first[0])
    assert parse_judge_spec("graded:noise=0.5").options == {"noise": 0.5, "seed": 0}
    with pytest.raises(MMAlignError, match="noise must be >= 0"):
        build_judge("graded:noise=-1")
