"""Configs load strictly; configs/reference.yaml documents every key; every shipped config loads."""

from pathlib import Path

import pytest
import yaml

from mmalign.train.config import load_train_config as load_config
from mmalign.config import from_dict
from mmalign.errors import ConfigError
from mmalign.train.config import TrainConfig
from mmalign.train.reference_doc import render_reference

REPO = Path(__file__).resolve().parents[2]


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match="unknown config key 'learning_rat'"):
        from_dict(TrainConfig, {"learning_rat": 1e-5})


def test_nested_unknown_key_is_named():
    with pytest.raises(ConfigError, match="unknown config key 'lora.rank'"):
        from_dict(TrainConfig, {"lora": {"rank": 8}})


@pytest.mark.parametrize("key,value", [("max_steps", "ten"), ("learning_rate", "fast"), ("lora", 3),
                                       ("gradient_checkpointing", "yes"), ("precision", "fp64"),
                                       ("per_device_batch_size", 2.5)])
def test_wrong_type_is_named(key, value):
    with pytest.raises(ConfigError, match=key):
        from_dict(TrainConfig, {key: value})


def test_overrides_and_scientific_notation(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("learning_rate: 1e-6\nloss: {name: sigmoid, beta: 0.1}\n")
    cfg = load_config(str(path), ["loss.beta=0.3", "lora.enabled=true", "max_steps=7"])
    assert cfg.learning_rate == 1e-6 and cfg.loss == {"name": "sigmoid", "beta": 0.3}
    assert cfg.lora.enabled is True and cfg.max_steps == 7


def test_reference_yaml_is_current():
    text = (REPO / "configs" / "reference.yaml").read_text()
    assert text == render_reference(), "regenerate with: python -m mmalign.train.reference_doc > configs/reference.yaml"
    assert set(yaml.safe_load(text)) == {f for f in TrainConfig.__dataclass_fields__}


@pytest.mark.parametrize("path", sorted(p for p in (REPO / "configs").rglob("*.yaml")
                                        if "accelerate" not in p.parts and "recipes" not in p.parts), ids=str)
def test_every_config_loads(path):
    cfg = load_config(str(path), [])
    assert isinstance(cfg, TrainConfig)


@pytest.mark.parametrize("path", sorted((REPO / "configs" / "recipes").glob("*.yaml")), ids=str)
def test_every_recipe_config_loads_and_plans(path, tmp_path):
    """The shipped recipes with the papers' settings: valid keys, valid train settings, a full plan."""
    from mmalign.recipe import build_plan, load_recipe_config

    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"id": "a", "prompt": "Hi?"}\n')
    cfg = load_recipe_config(path, [f"prompts={prompts}", f"output_dir={tmp_path / 'run'}"])
    plan = build_plan(cfg)
    assert len(plan.rounds) == cfg.iterations and any(s.kind == "train" for s in plan.stages)
