"""Hand-computed values for SFT, combo, SPPO, DOVE, F-DPO, Flex-DPO, media and reward-model losses.

Same two pairs as test_loss_values_trl.py: r_w = (1, -1), r_l = (-0.5, 1), Delta = (1.5, -2).
"""

from __future__ import annotations

import math

import pytest
import torch

from mmalign.losses import build_loss

PC, PR = torch.tensor([-1.0, -4.0]), torch.tensor([-3.0, -2.0])
RC, RR = torch.tensor([-2.0, -3.0]), torch.tensor([-2.5, -3.0])
LENGTHS = {"chosen_lengths": torch.tensor([2, 4]), "rejected_lengths": torch.tensor([5, 1])}


def logsig(x):
    return -math.log1p(math.exp(-x))


def close(actual, expected):
    torch.testing.assert_close(actual, torch.tensor(expected, dtype=torch.float32), rtol=1e-5, atol=1e-6)


def test_sft_is_mean_token_nll_of_chosen():
    close(build_loss("sft")(PC, PR, None, None, **LENGTHS).losses, [1 / 2, 4 / 4])
    close(build_loss("sft")(PC, PR).losses, [1.0, 4.0])  # no lengths: summed NLL


def test_combo_weights_and_rewards():
    loss = build_loss("combo", terms=[{"name": "sigmoid"}, {"name": "sft", "weight": 0.1}])
    assert loss.needs == {"reference", "lengths"}
    out = loss(PC, PR, RC, RR, **LENGTHS)
    close(out.losses, [-logsig(0.15) + 0.1 * 0.5, -logsig(-0.2) + 0.1 * 1.0])
    close(out.chosen_rewards, [0.1, -0.1])  # from sigmoid, the first term with a reference
    close(out.metrics["sft_loss"], (0.5 + 1.0) / 2)
    default = build_loss("combo")(PC, PR, RC, RR, **LENGTHS).losses  # RPO: DPO + 1.0 * NLL
    close(default, [-logsig(0.15) + 0.5, -logsig(-0.2) + 1.0])


def test_combo_of_two_dpo_terms_and_bad_terms():
    loss = build_loss("combo", terms=["hinge", {"name": "ipo", "beta": 0.5, "weight": 2.0}])
    close(loss(PC, PR, RC, RR).losses, [(1 - 0.15) + 2 * 0.25, (1 + 0.2) + 2 * 9.0])
    with pytest.raises(ValueError, match="valid losses:.*sigmoid"):
        build_loss("combo", terms=[{"name": "nope"}])
    with pytest.raises(ValueError, match="valid: beta"):
        build_loss("combo", terms=[{"name": "hinge", "tau": 1}])
    with pytest.raises(ValueError, match="rejected_media"):
        build_loss("combo", terms=["sigmoid", "vdpo"])
    assert "batch" in build_loss("combo", terms=["aot", "sft"]).needs


def test_sppo_soft():
    probs = {"chosen_win_prob": torch.tensor([0.7, 0.6]), "rejected_win_prob": torch.tensor([0.4, 0.5])}
    # beta 0.01 -> eta 100: 1/2 [(r_w - 100 (P_w - 1/2))^2 + (r_l - 100 (P_l - 1/2))^2]
    out = build_loss("sppo", beta=0.01)(PC, PR, RC, RR, **probs).losses
    close(out, [0.5 * ((1 - 20) ** 2 + (-0.5 + 10) ** 2), 0.5 * ((-1 - 10) ** 2 + (1 - 0) ** 2)])
    out = build_loss("sppo")(PC, PR, RC, RR, **probs).losses  # default beta 0.001, eta 1000
    close(out, [0.5 * ((1 - 200) ** 2 + (-0.5 + 100) ** 2), 0.5 * ((-1 - 100) ** 2 + 1)])
    with pytest.raises(ValueError, match="chosen_win_prob"):
        build_loss("sppo")(PC, PR, RC, RR)


def test_dove_is_sigmoid_on_joint_log_probs():
    loss = build_loss("dove")
    assert "joint" in loss.needs
    close(loss(PC, PR, RC, RR).losses, [-logsig(0.15), -logsig(-0.2)])


def test_fdpo_margin():
    fact = {"chosen_hallucinated": torch.tensor([0, 1]), "rejected_hallucinated": torch.tensor([1, 1])}
    out = build_loss("fdpo", fact_lambda=2.0)(PC, PR, RC, RR, **fact)
    # pair 1: dh = 1 -> beta (1.5 - 2) = -0.05; pair 2: dh = 0 -> plain DPO
    close(out.losses, [-logsig(-0.05), -logsig(-0.2)])
    close(build_loss("fdpo", fact_lambda=0.0)(PC, PR, RC, RR, **fact).losses, [-logsig(0.15), -logsig(-0.2)])


def test_flex_dpo():
    out = build_loss("flex_dpo", beta_chosen=0.1, beta_rejected=0.05)(PC, PR, RC, RR)
    close(out.losses, [-logsig(0.1 * 1 - 0.05 * -0.5), -logsig(0.1 * -1 - 0.05 * 1)])
    close(out.rejected_rewards, [-0.025, 0.05])


def test_mdpo_image_and_vdpo():
    # chosen = y under the original image (r_w), rejected = y under the altered image (r_l)
    close(build_loss("mdpo_image")(PC, PR, RC, RR).losses,
          [-logsig(0.15) - logsig(0.1), -logsig(-0.2) - logsig(-0.1)])
    close(build_loss("vdpo")(PC, PR, RC, RR).losses, [-logsig(0.15), -logsig(-0.2)])
    out = build_loss("vdpo", anchor_weight=0.5, anchor_delta=0.2)(PC, PR, RC, RR)
    close(out.losses, [-logsig(0.15) - 0.5 * logsig(0.1 - 0.2), -logsig(-0.2) - 0.5 * logsig(-0.1 - 0.2)])
    close(out.metrics["anchor_loss"], (-logsig(-0.1) - logsig(-0.3)) / 2)


def test_bradley_terry():
    rc, rr = torch.tensor([2.0, 0.0]), torch.tensor([0.5, 1.0])
    close(build_loss("bt")(rc, rr).losses, [-logsig(1.5), -logsig(-1.0)])
    out = build_loss("bt", label_smoothing=0.1)(rc, rr)
    close(out.losses, [-0.9 * logsig(1.5) - 0.1 * logsig(-1.5), -0.9 * logsig(-1.0) - 0.1 * logsig(1.0)])
    close(out.metrics["accuracy"], 0.5)


def test_bradley_terry_margin_and_soft_labels_on_negative_strength():
    rc, rr = torch.tensor([2.0, 0.0]), torch.tensor([0.5, 1.0])
    u = {"preference_strength": torch.tensor([1.0, -0.5])}
    # d - u = [1.5 - 1, -1 + 0.5] = [0.5, -0.5]
    close(build_loss("bt_margin")(rc, rr, **u).losses, [-logsig(0.5), -logsig(-0.5)])
    out = build_loss("bt_margin", label_smoothing=0.2)(rc, rr, **u).losses
    close(out, [-logsig(0.5), -0.8 * logsig(-0.5) - 0.2 * logsig(0.5)])
    out = build_loss("bt_margin", label_smoothing=0.2, smooth_negative_only=False, margin_scale=2.0)(rc, rr, **u)
    # d - 2u = [-0.5, 0]
    close(out.losses, [-0.8 * logsig(-0.5) - 0.2 * logsig(0.5), math.log(2)])
