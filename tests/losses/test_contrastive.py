"""The SimCSE InfoNCE term by hand: a 2x2 example with cosine similarities worked out on paper, the
dropout views, and the reward-model losses' contrastive hyper-parameters."""

import math

import pytest
import torch

from mmalign.losses import build_loss, hyperparameters
from mmalign.losses.base import loss_class
from mmalign.losses.contrastive import dropout_views, simcse_infonce


def test_infonce_on_a_hand_worked_2x2_example():
    # Views (rows are responses): a1 = (1, 0), a2 = (0, 2); b1 = (3, 0), b2 = (0.6, 0.8).
    # Cosines: s11 = 1, s12 = 0.6, s21 = 0, s22 = 0.8. Temperature 0.5 doubles them:
    # l1 = -log(e^2 / (e^2 + e^1.2)) = log(1 + e^-0.8) = 0.371101...
    # l2 = -log(e^1.6 / (e^0 + e^1.6)) = log(1 + e^-1.6) = 0.183901...
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    b = torch.tensor([[3.0, 0.0], [0.6, 0.8]])
    got = simcse_infonce(a, b, temperature=0.5)
    assert got.tolist() == pytest.approx([0.3711007, 0.1839008], abs=1e-6)
    assert got.tolist() == pytest.approx([math.log1p(math.exp(-0.8)), math.log1p(math.exp(-1.6))], abs=1e-6)


def test_infonce_is_low_when_views_match_and_high_when_they_are_swapped():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    matched = simcse_infonce(a, a.clone(), temperature=0.05)
    swapped = simcse_infonce(a, a.flip(0), temperature=0.05)
    assert float(matched.max()) < 1e-6  # e^20 against e^0
    assert swapped.tolist() == pytest.approx([20.0, 20.0], abs=1e-6)  # the positive is the dissimilar one


def test_infonce_refuses_bad_shapes_and_temperatures():
    with pytest.raises(ValueError, match="same shape"):
        simcse_infonce(torch.ones(2, 3), torch.ones(3, 3), 0.1)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        simcse_infonce(torch.ones(2, 3), torch.ones(2, 3), 0.0)


def test_dropout_views_differ_and_keep_the_expected_scale():
    torch.manual_seed(0)
    reps = torch.ones(64, 32)
    a, b = dropout_views(reps, 0.5)
    assert not torch.equal(a, b)
    assert set(a.unique().tolist()) <= {0.0, 2.0}  # inverted dropout: kept units scaled by 1 / (1 - p)
    a0, b0 = dropout_views(reps, 0.0)
    assert torch.equal(a0, reps) and torch.equal(b0, reps)


@pytest.mark.parametrize("name", ["bt", "bt_margin"])
def test_reward_losses_carry_the_contrastive_hyperparameters(name):
    hp = hyperparameters(loss_class(name))
    assert (hp["contrastive_weight"], hp["contrastive_temperature"], hp["contrastive_dropout"]) == (0.0, 0.05, 0.1)
    assert build_loss(name, contrastive_weight=0.1).contrastive_weight == 0.1
    with pytest.raises(ValueError, match=f"{name}: contrastive_weight must be >= 0"):
        build_loss(name, contrastive_weight=-1.0)
    with pytest.raises(ValueError, match=f"{name}: contrastive_temperature must be > 0"):
        build_loss(name, contrastive_temperature=0.0)
    with pytest.raises(ValueError, match=f"{name}: contrastive_dropout must be in"):
        build_loss(name, contrastive_dropout=1.0)


def test_policy_losses_do_not_take_the_contrastive_keys():
    with pytest.raises(ValueError, match="has no hyper-parameter contrastive_weight"):
        build_loss("sigmoid", contrastive_weight=0.1)
