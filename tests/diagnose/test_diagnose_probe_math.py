"""The separability probe's numbers, checked against values worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from mmalign.diagnose.logistic import fit_logistic
from mmalign.diagnose.metrics import accuracy, auroc, average_ranks, pair_accuracy


def test_auroc_counts_the_pairs_ranked_right():
    # positives 0.35, 0.8 against negatives 0.1, 0.4: 0.35>0.1, 0.35<0.4, 0.8>0.1, 0.8>0.4 -> 3 of 4
    assert auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert auroc([0.9, 0.1], [0, 1]) == 0.0
    assert auroc([0.1, 0.9], [0, 1]) == 1.0


def test_auroc_counts_a_tie_as_one_half():
    # positives 0.2, 0.9 against the negative 0.2: a tie (1/2) and a win (1) -> 0.75
    assert auroc([0.2, 0.2, 0.9], [0, 1, 1]) == 0.75
    assert auroc([1.0, 1.0, 1.0, 1.0], [1, 0, 1, 0]) == 0.5


def test_average_ranks_share_ties():
    assert average_ranks(torch.tensor([3.0, 1.0, 3.0, 2.0])).tolist() == [3.5, 1.0, 3.5, 2.0]


def test_auroc_needs_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        auroc([0.1, 0.2], [1, 1])


def test_accuracy_and_pair_accuracy():
    # predictions (p > 0.5): 1, 0, 0, 1 against labels 1, 1, 0, 0 -> 2 of 4 right; 0.5 itself is "rejected"
    assert accuracy([0.7, 0.5, 0.2, 0.6], [1, 1, 0, 0]) == 0.5
    # chosen above rejected: yes (1), tie (1/2), no (0) -> 1.5 / 3
    assert pair_accuracy([3.0, 1.0, 2.0], [1.0, 1.0, 5.0]) == 0.5


def _one_feature_set():
    # x = +1: three chosen, one rejected; x = -1: one chosen, three rejected (mean 0, std 1: unchanged by
    # standardising). The maximum-likelihood fit gives P(chosen | x=+1) = 3/4: w = ln 3, b = 0.
    x = torch.tensor([[1.0]] * 4 + [[-1.0]] * 4)
    y = torch.tensor([1, 1, 1, 0, 1, 0, 0, 0])
    return x, y


def test_unpenalised_fit_is_the_maximum_likelihood_one():
    x, y = _one_feature_set()
    probe = fit_logistic(x, y, c=math.inf)
    assert probe.weight.item() == pytest.approx(math.log(3), abs=1e-6)
    assert probe.bias == pytest.approx(0.0, abs=1e-6)
    assert probe.proba(torch.tensor([[1.0]])).item() == pytest.approx(0.75, abs=1e-6)


def test_penalised_fit_solves_the_stationarity_condition():
    # 1/2 w^2 + C * sum BCE with C = 1: d/dw = w + 2 (4 sigmoid(w) - 3) = 0 (b = 0 by symmetry), solved here
    # by bisection, independently of the probe's optimiser.
    lo, hi = 0.0, math.log(3)
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mid + 8 / (1 + math.exp(-mid)) - 6 < 0 else (lo, mid)
    x, y = _one_feature_set()
    probe = fit_logistic(x, y, c=1.0)
    assert probe.weight.item() == pytest.approx(lo, abs=1e-6)
    assert 0.6 < lo < 0.75  # shrunk from ln 3 = 1.0986
    assert probe.bias == pytest.approx(0.0, abs=1e-6)


def test_standardising_uses_the_training_rows():
    # The same set scaled by 10 and shifted by 5: standardised features are the same, so the fitted
    # probabilities are too.
    x, y = _one_feature_set()
    probe = fit_logistic(x * 10 + 5, y, c=1.0)
    base = fit_logistic(x, y, c=1.0)
    assert torch.allclose(probe.proba(x * 10 + 5), base.proba(x), atol=1e-9)


def test_one_class_only_is_refused():
    with pytest.raises(ValueError, match="one class only"):
        fit_logistic(torch.randn(4, 3), torch.ones(4))
