"""Building losses by name: errors list the valid choices."""

from __future__ import annotations

import pytest

from mmalign.losses import available_losses, build_loss, build_loss_from_config, hyperparameters
from mmalign.losses.base import loss_class


def test_unknown_objective_lists_valid_ones():
    with pytest.raises(ValueError) as err:
        build_loss("dpo_plus_plus")
    for name in ("sigmoid", "ipo", "combo", "vdpo", "bt_margin"):
        assert name in str(err.value)


def test_unknown_hyperparameter_lists_valid_ones():
    with pytest.raises(ValueError) as err:
        build_loss("ipo", tau=0.1)
    assert "tau" in str(err.value) and "beta=0.1" in str(err.value) and "length_normalize=True" in str(err.value)
    with pytest.raises(ValueError, match="valid: beta=0.1, discopop_tau=0.05"):
        build_loss_from_config({"name": "discopop", "tau": 0.05})


def test_out_of_range_hyperparameters():
    for name, hyper in [("robust", {"label_smoothing": 0.5}), ("sigmoid", {"label_smoothing": -0.1}),
                        ("discopop", {"discopop_tau": 0.0}), ("bt", {"label_smoothing": 0.7})]:
        with pytest.raises(ValueError, match=name):
            build_loss(name, **hyper)


def test_defaults_documented_in_the_research():
    assert hyperparameters(loss_class("exo_pair"))["label_smoothing"] == 1e-3
    assert hyperparameters(loss_class("discopop"))["discopop_tau"] == 0.05
    assert hyperparameters(loss_class("sppo"))["beta"] == 0.001
    assert hyperparameters(loss_class("ipo"))["length_normalize"] is True
    assert all(build_loss(n) is not None for n in available_losses())
