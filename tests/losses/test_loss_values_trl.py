"""Hand-computed values for the TRL-named DPO family.

Shared example (two pairs):
  pair 1: log pi = (-1, -3), log pi_ref = (-2, -2.5)  ->  r_w = 1,  r_l = -0.5, Delta = 1.5
  pair 2: log pi = (-4, -2), log pi_ref = (-3, -3)    ->  r_w = -1, r_l = 1,    Delta = -2
"""

from __future__ import annotations

import math

import pytest
import torch

from mmalign.losses import build_loss

PC, PR = torch.tensor([-1.0, -4.0]), torch.tensor([-3.0, -2.0])
RC, RR = torch.tensor([-2.0, -3.0]), torch.tensor([-2.5, -3.0])
RW, RL = [1.0, -1.0], [-0.5, 1.0]
DELTA = [1.5, -2.0]


def sig(x):
    return 1 / (1 + math.exp(-x))


def logsig(x):
    return -math.log1p(math.exp(-x))


def run(name, **hyper):
    return build_loss(name, **hyper)(PC, PR, RC, RR).losses


def close(actual, expected):
    torch.testing.assert_close(actual, torch.tensor(expected, dtype=torch.float32), rtol=1e-5, atol=1e-6)


def test_sigmoid_and_cdpo():
    close(run("sigmoid"), [-logsig(0.15), -logsig(-0.2)])
    close(run("sigmoid", label_smoothing=0.1),
          [-0.9 * logsig(0.15) - 0.1 * logsig(-0.15), -0.9 * logsig(-0.2) - 0.1 * logsig(0.2)])
    out = build_loss("sigmoid")(PC, PR, RC, RR)
    close(out.chosen_rewards, [0.1, -0.1])
    close(out.rejected_rewards, [-0.05, 0.1])


def test_robust():
    close(run("robust", label_smoothing=0.1),
          [(-0.9 * logsig(0.15) + 0.1 * logsig(-0.15)) / 0.8, (-0.9 * logsig(-0.2) + 0.1 * logsig(0.2)) / 0.8])
    close(run("robust"), [-logsig(0.15), -logsig(-0.2)])  # eps = 0 is DPO


def test_hinge():
    close(run("hinge"), [1 - 0.15, 1 + 0.2])
    close(run("hinge", beta=1.0), [0.0, 3.0])  # 1 - 1.5 < 0 is clipped


def test_ipo_with_and_without_lengths():
    close(run("ipo"), [(1.5 - 5) ** 2, (-2 - 5) ** 2])  # no lengths: summed log-probs
    lengths = {"chosen_lengths": torch.tensor([2, 4]), "rejected_lengths": torch.tensor([5, 1])}
    out = build_loss("ipo")(PC, PR, RC, RR, **lengths).losses
    close(out, [(1 / 2 - (-0.5 / 5) - 5) ** 2, (-1 / 4 - 1 / 1 - 5) ** 2])  # 19.36, 39.0625
    close(build_loss("ipo", length_normalize=False)(PC, PR, RC, RR, **lengths).losses, [12.25, 49.0])
    close(run("ipo", beta=0.5), [(1.5 - 1) ** 2, (-2 - 1) ** 2])


def test_exo_pair():
    eps = 1e-3

    def exo(z):
        qw, ql = sig(z), sig(-z)
        return qw * (math.log(qw) - math.log(1 - eps)) + ql * (math.log(ql) - math.log(eps))

    close(run("exo_pair"), [exo(0.15), exo(-0.2)])
    with pytest.raises(ValueError, match="label_smoothing"):
        build_loss("exo_pair", label_smoothing=0.0)


def test_nca_pair():
    def nca(rw, rl):
        return -logsig(0.1 * rw) - 0.5 * logsig(-0.1 * rw) - 0.5 * logsig(-0.1 * rl)

    close(run("nca_pair"), [nca(1, -0.5), nca(-1, 1)])


def test_bco_pair():
    close(run("bco_pair"), [-logsig(0.1) - logsig(0.05), -logsig(-0.1) - logsig(-0.1)])


def test_sppo_hard():
    # 1/(2 beta) = 5: (r_w - 5)^2 + (r_l + 5)^2
    close(run("sppo_hard"), [16 + 20.25, 36 + 36])


def test_apo_zero_and_down():
    close(run("apo_zero"), [(1 - sig(0.1)) + sig(-0.05), (1 - sig(-0.1)) + sig(0.1)])
    close(run("apo_down"), [sig(0.1) + 1 - sig(0.15), sig(-0.1) + 1 - sig(-0.2)])


def test_discopop():
    def disco(z, tau=0.05):
        m = sig(z / tau)
        return (1 - m) * -logsig(z) + m * math.exp(-z)

    close(run("discopop"), [disco(0.15), disco(-0.2)])
    close(run("discopop", discopop_tau=1.0), [disco(0.15, 1.0), disco(-0.2, 1.0)])
    same = build_loss("discopop")(RC, RR, RC, RR).losses
    close(same, [0.5 * math.log(2) + 0.5] * 2)


def test_discopop_decreases_away_from_zero():
    loss = build_loss("discopop")
    zero = torch.zeros(1)
    values = [loss(torch.tensor([d]), zero, zero, zero).losses.item() for d in (-30.0, -20.0, 20.0, 30.0)]
    assert values[0] > values[1] and values[2] > values[3]


def test_sigmoid_norm():
    lengths = {"chosen_lengths": torch.tensor([2, 4]), "rejected_lengths": torch.tensor([5, 1])}
    out = build_loss("sigmoid_norm")(PC, PR, RC, RR, **lengths).losses
    close(out, [-logsig(0.1 * (0.5 + 0.1)), -logsig(0.1 * (-0.25 - 1.0))])
    close(run("sigmoid_norm"), [-logsig(0.15), -logsig(-0.2)])


def test_aot_sorts_the_policy_and_reference_margins_separately():
    # pi margins [2, -2] -> sorted [-2, 2]; reference margins [-1, 0.5] -> sorted [-1, 0.5]; d = [-1, 1.5]
    pc, pr = torch.tensor([0.0, 0.0]), torch.tensor([-2.0, 2.0])
    rc, rr = torch.tensor([-1.0, 0.5]), torch.tensor([0.0, 0.0])
    out = build_loss("aot")(pc, pr, rc, rr).losses
    close(out, [-logsig(-0.1), -logsig(0.15)])
    out = build_loss("aot", label_smoothing=0.2)(pc, pr, rc, rr).losses
    close(out, [-0.8 * logsig(-0.1) - 0.2 * logsig(0.1), -0.8 * logsig(0.15) - 0.2 * logsig(-0.15)])


def test_aot_unpaired_sorts_the_log_ratios():
    # r_w = [-1, 2] (sorted [-1, 2]); r_l = [0.5, -3] (sorted [-3, 0.5]); d = [2, 1.5]
    zero = torch.zeros(2)
    out = build_loss("aot_unpaired")(zero, zero, torch.tensor([1.0, -2.0]), torch.tensor([-0.5, 3.0])).losses
    close(out, [-logsig(0.2), -logsig(0.15)])
