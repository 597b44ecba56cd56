"""Thresholds, ratios on hand-made attention maps, post-filters and the selector's order of checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from mmalign.augment import grid_collage, pic_in_pic, sequence
from mmalign.models.adapter import Span
from mmalign.select import (
    THRESHOLDS,
    ImageAttention,
    PostFilter,
    RatioOptions,
    Selector,
    attention_ratio,
    center_mask,
    edit_distance,
    is_rejection,
    length_ratio,
    normalized_edit_distance,
    perplexity,
    threshold_for,
)


def _att(maps):
    maps = tuple(np.asarray(m, dtype=np.float64) for m in maps)
    spans = tuple(Span(0, m.size, m.shape) for m in maps)
    return ImageAttention(tuple(float(m.sum()) for m in maps), maps, spans, 3, 0)


def _img(colour, size=(32, 32)):
    return Image.new("RGB", size, colour)


def test_paper_thresholds_and_comparisons():
    assert THRESHOLDS["sequence"] == {2: 0.8, 3: 0.7, 4: 0.6, 5: 0.6}
    assert THRESHOLDS["grid_collage"] == {2: 0.7, 3: 0.6, 4: 0.5, 6: 0.4, 9: 0.3}
    assert threshold_for("pic_in_pic", 2) == 0.8
    assert is_rejection(0.8, "sequence", 2)  # sequence: <=
    assert not is_rejection(0.7, "grid_collage", 2)  # collage: <
    assert is_rejection(0.69, "grid_collage", 2)
    assert not is_rejection(0.8, "pic_in_pic", 2)
    assert threshold_for("sequence", 8) == 0.6 and threshold_for("grid_collage", 5) == 0.5  # fallbacks
    assert threshold_for("sequence", 2, {"sequence": {2: 0.5}}) == 0.5
    assert not is_rejection(math.nan, "sequence", 2)
    with pytest.raises(ValueError):
        threshold_for("video", 2)


def test_sequence_ratio_is_the_target_share():
    aug = sequence(_img("red"), [_img("blue"), _img("green")], "What colour?", seed=0, target_index=1)
    att = _att([np.full((2, 2), 0.05), np.full((2, 2), 0.1), np.full((2, 2), 0.05)])
    assert attention_ratio(att, aug) == pytest.approx(0.4 / 0.8)


def test_collage_ratio_uses_the_target_cells():
    aug = grid_collage(_img("red"), [_img("blue")], "Shape?", seed=0, target_index=1, cell=64, margin=8)
    # 1x2 layout, canvas 136x72; a 2x4 token grid: target cell x 72..136 covers token cols 2-3 fully.
    grid = np.zeros((2, 4))
    grid[:, 2:] = 1.0
    grid[:, :2] = 3.0
    assert attention_ratio(_att([grid]), aug) == pytest.approx(4 / 16)


def test_pip_center_and_inset_ratio():
    assert center_mask((24, 24)).sum() == 256 and center_mask((24, 24))[4:20, 4:20].all()
    aug = pic_in_pic(_img("red"), _img("blue", (60, 60)), "Shape?", seed=0)
    grid = np.ones((6, 6))
    grid[2:4, 2:4] = 5.0
    att = _att([grid])
    assert attention_ratio(att, aug) == pytest.approx((12 + 20) / (32 + 20))  # central 4x4 of 6x6
    inset = attention_ratio(att, aug, RatioOptions(pip_region="inset"))  # inset box 9..51 -> cells 1..4
    assert inset == pytest.approx((12 + 20) / (32 + 20))
    with pytest.raises(ValueError):
        RatioOptions(pip_region="edge")


def test_filters():
    assert perplexity([0.0, 0.0]) == 1.0
    assert perplexity([math.log(0.5)] * 3) == pytest.approx(2.0)
    assert math.isnan(perplexity([]))
    assert length_ratio("a b c d", "a b") == 2.0 and length_ratio("", "") == 1.0 and length_ratio("a", "") == math.inf
    assert edit_distance("kitten", "sitting") == 3
    assert normalized_edit_distance("abc", "abc") == 0.0 and normalized_edit_distance("", "") == 0.0
    lp_high, lp_low = [math.log(0.2)] * 2, [math.log(0.99)] * 2
    assert PostFilter().reason("x", "y", lp_high) is None
    assert PostFilter().reason("x", "y", lp_low) == "low_ppl"
    assert PostFilter(min_ppl=None, max_length_ratio=2).reason("a b c", "a", None) == "length_ratio"
    assert PostFilter(min_ppl=None, min_edit_distance=0.5).reason("A red cube.", "A red cube!", None) == "too_similar"
    with pytest.raises(ValueError):
        PostFilter().reason("x", "y", None)


def test_selector_order_of_checks():
    aug = sequence(_img("red"), [_img("blue")], "What colour?", seed=0, target_index=0)
    away = _att([np.full((2, 2), 0.01), np.full((2, 2), 0.2)])
    sel, lp = Selector(), [math.log(0.3)] * 3
    assert sel.decide(aug, away, "  ", "Red.", lp).reason == "empty_answer"
    assert sel.decide(aug, away, "Red.", "Red.", lp).reason == "same_as_ground_truth"
    assert sel.decide(aug, _att([np.zeros((2, 2)), np.zeros((2, 2))]), "Blue.", "Red.", lp).reason == \
        "no_image_attention"
    on = _att([np.full((2, 2), 0.2), np.full((2, 2), 0.01)])
    assert sel.decide(aug, on, "Blue.", "Red.", lp).reason == "attention_on_target"
    assert sel.decide(aug, away, "Blue.", "Red.", [math.log(0.999)] * 3).reason == "low_ppl"
    kept = sel.decide(aug, away, "Blue.", "Red.", lp)
    assert kept.keep and kept.reason is None and kept.ratio == pytest.approx(0.04 / 0.84) and kept.ppl == pytest.approx(1 / 0.3)


def test_build_selector_maps_the_cli_choices():
    import pytest

    from mmalign.select import PostFilter, RandomSelector, Selector, build_selector

    assert build_selector("random", seed=3) == RandomSelector(seed=3)
    assert build_selector("attention", min_ppl=1.1) == Selector(post=PostFilter(min_ppl=1.1))
    off = build_selector("attention", min_ppl=-1.0, max_length_ratio=2.0)  # negative: the perplexity filter is off
    assert off.post.min_ppl is None and off.post.max_length_ratio == 2.0
    with pytest.raises(ValueError, match="attention, random"):
        build_selector("greedy")
