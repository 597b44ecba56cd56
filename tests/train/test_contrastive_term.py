"""The reward model's SimCSE contrastive term in the training step: with weight 0 it is inert (same loss,
same gradients, no random numbers drawn); weighted, it adds weight * InfoNCE to each record's loss and
changes the backbone's gradients but not the value head's (it reads the representations before the head);
a policy (head: lm) cannot use it; a run trains with it."""

import json

import pytest
import torch
from speed.speed_kit import family_paths, grads, records, setup

from mmalign.errors import ConfigError
from mmalign.losses import build_loss
from mmalign.models.value_head import ValueModel
from mmalign.train.pair_loss import rejection_loss
from mmalign.train.step import PairForward, compute_loss
from mmalign.train.value_scoring import ValueForward


@pytest.fixture(scope="module")
def text_setup(tmp_path_factory):
    paths = family_paths(tmp_path_factory.mktemp("contrastive"), families=("text",))
    model, adapter, collator, pad = setup(paths["text"], paths["root"], "full")
    return ValueModel.around(model, seed=1), adapter, collator(records(vision=False)), pad


def _step(model, adapter, batch, pad, loss):
    out, pol = compute_loss(model, None, loss, ValueForward(adapter, pad, "packed"), batch)
    out.losses.sum().backward()
    return out, pol, grads(model)


def test_zero_weight_is_inert(text_setup):
    model, adapter, batch, pad = text_setup
    inert = build_loss("bt", contrastive_weight=0.0, contrastive_temperature=0.5, contrastive_dropout=0.3)
    rng = torch.get_rng_state()
    out, pol, g_inert = _step(model, adapter, batch, pad, inert)
    assert torch.equal(torch.get_rng_state(), rng)  # no dropout masks drawn
    plain = rejection_loss(build_loss("bt"), pol, None, None, {})
    torch.testing.assert_close(out.losses, plain.losses, rtol=0, atol=0)
    assert "contrastive" not in out.metrics
    _, _, g_plain = _step(model, adapter, batch, pad, build_loss("bt"))
    assert g_inert.keys() == g_plain.keys()
    for name, value in g_inert.items():
        torch.testing.assert_close(value, g_plain[name], rtol=0, atol=0)


def test_weighted_term_adds_infonce_and_changes_backbone_gradients_only(text_setup):
    model, adapter, batch, pad = text_setup
    torch.manual_seed(7)
    plain_out, pol, g_plain = _step(model, adapter, batch, pad, build_loss("bt"))
    assert pol.representations is not None and pol.representations.shape[:2] == (3, 2)
    weighted = build_loss("bt", contrastive_weight=0.5, contrastive_temperature=0.05, contrastive_dropout=0.1)
    out, _, g_weighted = _step(model, adapter, batch, pad, weighted)
    term = out.metrics["contrastive"]
    assert float(term) > 0
    # Each record gets weight * (mean of its two answers' InfoNCE); their mean is the batch's mean term.
    torch.testing.assert_close((out.losses - plain_out.losses).mean(), 0.5 * term, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(g_weighted["value_head.weight"], g_plain["value_head.weight"], rtol=1e-5, atol=1e-7)
    backbone = [n for n in g_plain if n != "value_head.weight"]
    changed = [n for n in backbone if not torch.allclose(g_weighted[n], g_plain[n], rtol=1e-4, atol=1e-7)]
    assert len(changed) > len(backbone) // 2, f"only {changed} changed"


def test_a_policy_cannot_use_the_contrastive_term(text_setup):
    model, adapter, batch, pad = text_setup
    loss = build_loss("bt", contrastive_weight=0.1)
    with pytest.raises(ConfigError, match="contrastive_weight.*needs head: value"):
        compute_loss(model, None, loss, PairForward(adapter, pad, "packed"), batch)


def test_a_reward_run_trains_with_the_contrastive_term(tmp_path):
    from mmalign.config import from_dict
    from mmalign.train.config import TrainConfig
    from mmalign.train.trainer import train

    result = train(from_dict(TrainConfig, {
        "model": "tiny-llama", "data": "synthetic-text", "synthetic_pairs": 16, "head": "value",
        "loss": {"name": "bt", "contrastive_weight": 0.1, "contrastive_temperature": 0.05},
        "max_steps": 2, "per_device_batch_size": 8, "learning_rate": 1e-3, "progress": False,
        "output_dir": str(tmp_path / "run")}))
    assert result.steps == 2 and result.nonfinite_skipped == 0 and (result.final_dir / "config.json").is_file()
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    # the term is logged per step: InfoNCE over 16 answers, positive; the logged loss includes 0.1 x the term
    assert all(0 < r["contrastive"] < 50 and r["loss"] > 0.1 * r["contrastive"] for r in rows)


def test_no_contrastive_column_without_the_term(tmp_path):
    from mmalign.config import from_dict
    from mmalign.train.config import TrainConfig
    from mmalign.train.trainer import train

    train(from_dict(TrainConfig, {
        "model": "tiny-llama", "data": "synthetic-text", "synthetic_pairs": 8, "head": "value",
        "loss": {"name": "bt"}, "max_steps": 1, "per_device_batch_size": 8, "progress": False,
        "output_dir": str(tmp_path / "run")}))
    row = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[0])
    assert "contrastive" not in row and "scores/mean" in row
