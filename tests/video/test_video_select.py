"""Candidate clips, prompt-aware distance, floor and close-to-far schedule (mmalign.select.video)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mmalign.select.video import (
    candidate_weights,
    choose,
    make_candidates,
    prompt_aware_distance,
    schedule_quantile,
)


def _clip(t=8, px=16):
    return np.random.default_rng(0).integers(0, 256, (t, px, px, 3), dtype=np.uint8)


def test_candidates_are_seeded_and_temporal_ones_reuse_frames():
    clip = _clip()
    a = make_candidates(clip, 6, seed=3)
    b = make_candidates(clip, 6, seed=3)
    assert [c.name for c in a] == [c.name for c in b]
    assert all(np.array_equal(x.frames, y.frames) for x, y in zip(a, b))
    assert len({c.name for c in a}) == 6  # drawn without replacement
    rev = make_candidates(clip, 1, seed=0, perturbations=["reverse"])[0]
    assert rev.kind == "temporal" and np.array_equal(rev.frames, clip[::-1])
    flip = make_candidates(clip, 1, seed=0, perturbations=["flip"])[0]
    assert flip.kind == "spatial" and np.array_equal(flip.frames, clip[:, :, ::-1])
    with pytest.raises(ValueError, match="unknown perturbation"):
        make_candidates(clip, 2, perturbations=["nope"])


def test_js_distance_by_hand_and_zero_for_identical():
    p = torch.tensor([[[math.log(0.5), math.log(0.5)]]])
    q = torch.tensor([[[math.log(0.9), math.log(0.1)]]])
    mask = torch.ones(1, 1)
    m = [0.7, 0.3]
    js = 0.5 * (0.5 * math.log(0.5 / m[0]) + 0.5 * math.log(0.5 / m[1])) + 0.5 * (
        0.9 * math.log(0.9 / m[0]) + 0.1 * math.log(0.1 / m[1]))
    assert prompt_aware_distance(p, q, mask).item() == pytest.approx(js, rel=1e-5)
    kl = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
    assert prompt_aware_distance(p, q, mask, "kl").item() == pytest.approx(kl, rel=1e-5)
    gap = prompt_aware_distance(p, q, mask, "logp_gap", answer_ids=torch.tensor([[1]])).item()
    assert gap == pytest.approx(abs(math.log(0.5) - math.log(0.1)), rel=1e-5)
    assert prompt_aware_distance(q, q, mask).item() == pytest.approx(0.0, abs=1e-7)


def test_floor_drops_the_candidate_equal_to_the_original():
    torch.manual_seed(0)
    orig = torch.randn(1, 5, 11)
    cands = torch.cat([orig, orig + 0.3 * torch.randn(1, 5, 11), orig + 3 * torch.randn(1, 5, 11)])
    mask = torch.ones(3, 5)
    d = prompt_aware_distance(orig.expand(3, -1, -1), cands, mask).numpy()
    assert d[0] == pytest.approx(0.0, abs=1e-7) and 0 < d[1] < d[2]
    for progress in np.linspace(0, 1, 11):
        c = choose(d, progress, floor=1e-4)
        assert c.index != 0 and not c.kept[0]
    assert choose(d, 0.0, floor=1e-4).index == 1  # early: the closest above the floor
    assert choose(d, 1.0, floor=1e-4).index == 2  # late: the farthest
    assert candidate_weights(d, 0.5, floor=1e-4)[0] == 0.0
    assert choose([0.0, 0.0], 0.0, floor=0.1).kept.sum() >= 1  # nothing clears the floor: keep the farthest


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_schedule_moves_from_close_to_far(schedule):
    d = np.array([0.30, 0.0, 0.05, 0.50, 0.12])  # candidate 1 equals the original
    picks = [choose(d, p, floor=0.01, schedule=schedule).index for p in np.linspace(0, 1, 9)]
    dist = [d[i] for i in picks]
    assert picks[0] == 2 and picks[-1] == 3
    assert dist == sorted(dist) and 1 not in picks
    w_early, w_late = candidate_weights(d, 0.0), candidate_weights(d, 1.0)
    assert w_early.sum() == pytest.approx(1.0) and w_early[2] == w_early.max() and w_late[3] == w_late.max()
    assert schedule_quantile(0.5, "cosine") == pytest.approx(0.5)
    assert schedule_quantile(0.25, "cosine") < 0.25 == schedule_quantile(0.25, "linear")
