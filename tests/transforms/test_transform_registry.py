"""The transform registry: names, options, purity."""

from __future__ import annotations

import copy

import pytest

from mmalign.data.transforms import apply_transforms, available_transforms, fdpo_flip, transform_options


def test_registered_names_and_options():
    assert available_transforms() == ["balance_answers", "curry_pairs", "fdpo_flip", "preference_strength",
                                      "reward_augment", "score_gap_filter"]
    assert transform_options("balance_answers") == {"kinds": "colour", "by_format": True}
    assert transform_options("score_gap_filter") == {"threshold": 2.0, "orient": True}
    assert transform_options("preference_strength") == {"flip_fraction": 0.2, "soft_labels": True}


def test_unknown_name_lists_valid_transforms():
    with pytest.raises(ValueError, match="valid transforms: balance_answers, curry_pairs, fdpo_flip, preference_strength"):
        apply_transforms([], [{"name": "shuffle"}])
    with pytest.raises(ValueError, match="needs a 'name'"):
        apply_transforms([], [{"threshold": 2}])


def test_unknown_option_lists_valid_options():
    with pytest.raises(ValueError, match=r"no option gap; valid: threshold=2.0, orient=True"):
        apply_transforms([], [{"name": "score_gap_filter", "gap": 3}])
    with pytest.raises(ValueError, match="valid: missing='error'"):
        fdpo_flip([], strict=True)


def test_chained_transforms_leave_inputs_untouched():
    records = [{"id": "a", "prompt": "q", "chosen": "x", "rejected": "y", "scores": {"chosen": 1, "rejected": 9},
                "factuality": {"chosen": 1, "rejected": 0}, "extra": {"keep": [1, 2]}}]
    before = copy.deepcopy(records)
    out = apply_transforms(records, [{"name": "fdpo_flip"}, {"name": "score_gap_filter", "threshold": 2}])
    assert records == before
    assert out == [{"id": "a", "prompt": "q", "chosen": "y", "rejected": "x", "scores": {"chosen": 9, "rejected": 1},
                    "factuality": {"chosen": 0, "rejected": 1}, "extra": {"keep": [1, 2]},
                    "meta": {"fdpo_flipped": True, "score_gap": 8.0}}]
    out[0]["extra"]["keep"].append(3)
    assert records == before  # no shared structure
