"""What the trainer refuses is decided by one function (train/refusals.py), before a model is loaded, and
`--dry-run` asks it too."""

import pytest
from helpers import tiny_config

from mmalign.errors import ConfigError
from mmalign.train.refusals import build_loss, check_training_config


def test_deepspeed_with_accumulation_is_refused(tmp_path, tiny_llava_path, synth_pairs):
    """The trainer's own accumulation would be applied twice under DeepSpeed's engine: refuse it."""
    four = tiny_config(tmp_path, tiny_llava_path, synth_pairs, gradient_accumulation_steps=4)
    one = tiny_config(tmp_path, tiny_llava_path, synth_pairs, gradient_accumulation_steps=1)
    for engine in ("deepspeed", "zero2", "zero3"):
        with pytest.raises(ConfigError, match="not supported under DeepSpeed"):
            check_training_config(four, build_loss(four), engine=engine)
        check_training_config(one, build_loss(one), engine=engine)  # one micro-batch per step is fine
    check_training_config(four, build_loss(four), engine="multi_gpu")
    check_training_config(four, build_loss(four), engine="fsdp2")


@pytest.mark.parametrize(("over", "match"), [
    ({"data_format": "llava"}, "llava has no rejected answers"),
    ({"precompute_ref": True, "pair_sampler": {"name": "pami_vdpo"}}, "precompute_ref cannot be used"),
    ({"head": "value"}, "trains a reward model"),
    ({"rejections": "all", "precompute_ref": True}, "rejections: all cannot be used with precompute_ref"),
    ({"num_workers": -1}, "num_workers"),
])
def test_refusals_name_the_key(tmp_path, tiny_llava_path, synth_pairs, over, match):
    cfg = tiny_config(tmp_path, tiny_llava_path, synth_pairs, **over)
    with pytest.raises(ConfigError, match=match):
        check_training_config(cfg, build_loss(cfg))


def test_train_refuses_before_loading_a_model(tmp_path, tiny_llava_path, synth_pairs, monkeypatch):
    """A refused config and a missing data file stop the run before any model is loaded."""
    from mmalign.errors import MMAlignError
    from mmalign.train import run_setup
    from mmalign.train.trainer import train

    def no_load(*a, **k):
        raise AssertionError("the model was loaded before the inputs were checked")

    monkeypatch.setattr(run_setup, "load", no_load)
    with pytest.raises(ConfigError, match="llava has no rejected answers"):
        train(tiny_config(tmp_path / "a", tiny_llava_path, synth_pairs, data_format="llava"))
    with pytest.raises(MMAlignError, match="missing.jsonl"):
        train(tiny_config(tmp_path / "b", tiny_llava_path, synth_pairs, data=str(tmp_path / "missing.jsonl")))


def test_dry_run_reports_what_the_trainer_would_refuse():
    from pathlib import Path

    from mmalign.train.config import load_train_config
    from mmalign.train.dryrun import dry_run

    config = Path(__file__).resolve().parents[2] / "configs" / "mia_dpo_llava15_7b.yaml"
    cfg = load_train_config(config, ["gradient_accumulation_steps=8"])
    refused = [n for n in dry_run(cfg, engine="zero2", devices=8).notes if n.startswith("REFUSED")]
    assert refused and "gradient_accumulation_steps=8" in refused[0]
    assert not [n for n in dry_run(cfg, engine="ddp", devices=8).notes if n.startswith("REFUSED")]
