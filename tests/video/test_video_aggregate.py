"""Multi-instance vdpo over [B, K] candidates: each aggregation against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from mmalign.losses import build_loss


def nls(x):  # -log sigmoid(x)
    return math.log1p(math.exp(-x))


# beta = 1, no reference: h_k = chosen - rejected_k = [0, 1, 2] (row 0) and [-1, 3, 0.5] (row 1).
CHOSEN = torch.tensor([2.0, 1.0])
REJECTED = torch.tensor([[2.0, 1.0, 0.0], [2.0, -2.0, 0.5]])
H = [[0.0, 1.0, 2.0], [-1.0, 3.0, 0.5]]


def run(aggregation, **kw):
    extras = kw.pop("extras", {})
    loss = build_loss("vdpo", beta=1.0, aggregation=aggregation, **kw)
    return loss(CHOSEN, REJECTED, **extras).losses.tolist()


def test_max_takes_the_hardest_candidate():
    assert run("max") == pytest.approx([nls(0.0), nls(-1.0)], rel=1e-6)


def test_mean_averages_per_candidate_losses():
    assert run("mean") == pytest.approx([sum(nls(h) for h in row) / 3 for row in H], rel=1e-6)


@pytest.mark.parametrize("tau", [0.5, 1.0, 4.0])
def test_lse_is_a_soft_minimum(tau):
    want = [nls(-tau * (math.log(sum(math.exp(-h / tau) for h in row)) - math.log(3))) for row in H]
    assert run("lse", temperature=tau) == pytest.approx(want, rel=1e-6)
    # a small temperature approaches max
    assert run("lse", temperature=1e-3) == pytest.approx(run("max"), abs=1e-3)


def test_weighted_normalises_the_weights_per_row():
    w = torch.tensor([[1.0, 0.0, 3.0], [0.0, 0.0, 0.0]])  # an all-zero row falls back to uniform
    want = [(nls(0.0) + 3 * nls(2.0)) / 4, sum(nls(h) for h in H[1]) / 3]
    assert run("weighted", extras={"rejected_weights": w}) == pytest.approx(want, rel=1e-6)
    assert run("weighted") == pytest.approx(run("mean"), rel=1e-6)


def test_select_uses_the_samplers_pick_and_needs_it():
    assert run("select", extras={"rejected_select": torch.tensor([2, 1])}) == pytest.approx(
        [nls(2.0), nls(3.0)], rel=1e-6)
    with pytest.raises(ValueError, match="rejected_select"):
        run("select")


def test_mask_leaves_candidates_out():
    mask = torch.tensor([[False, True, True], [False, False, False]])  # row 1: nothing left -> all
    assert run("max", extras={"rejected_mask": mask}) == pytest.approx([nls(1.0), nls(-1.0)], rel=1e-6)


def test_reference_and_rewards_shapes_and_single_instance_unchanged():
    loss = build_loss("vdpo", beta=0.5, aggregation="mean")
    ref_c, ref_r = torch.tensor([1.0, 0.0]), torch.zeros(2, 3)
    out = loss(CHOSEN, REJECTED, ref_c, ref_r)
    r_w = [1.0, 1.0]
    want = [sum(nls(0.5 * (r_w[i] - r)) for r in REJECTED[i].tolist()) / 3 for i in range(2)]
    assert out.losses.tolist() == pytest.approx(want, rel=1e-6)
    assert out.rejected_rewards.shape == (2, 3) and out.chosen_rewards.shape == (2,)
    single = build_loss("vdpo", beta=1.0, aggregation="max")(CHOSEN, REJECTED[:, 0])
    assert single.losses.tolist() == pytest.approx([nls(0.0), nls(-1.0)], rel=1e-6)
    with pytest.raises(ValueError, match="aggregation"):
        build_loss("vdpo", aggregation="median")
