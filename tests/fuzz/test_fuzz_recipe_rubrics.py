"""Fuzzing `mmalign recipe` configs (with `key=value` overrides) and OpenRubrics files: a RecipeConfig and
a full plan, or one clean error naming the key or the file (and line); never a traceback or a hang."""

from __future__ import annotations

from pathlib import Path

import yaml
from fuzz_inputs import FUZZ, JSON_VALUES, NASTY_TEXT, expect_clean, jsonl_file, near_miss, write
from hypothesis import example, given
from hypothesis import strategies as st

from mmalign.errors import ConfigError, MMAlignError
from mmalign.judge.rubric import load_rubrics, parse_rubric
from mmalign.recipe import build_plan, load_recipe_config
from mmalign.recipe.config import RecipeConfig

RECIPES = Path(__file__).resolve().parents[2] / "configs" / "recipes"
TEMPLATES = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(RECIPES.glob("*.yaml"))]
KEYS = st.sampled_from(["recipe", "iterations", "prompts_per_iteration", "sample.n", "sample.temperature",
                        "judges", "pair_rule", "train", "train.loss.name", "train.loss.beta", "train.max_steps",
                        "train.lora.enabled", "curry_stages", "future_samples", "nope", "sample.nope", ""])
OVERRIDES = st.lists(st.builds(lambda k, v: f"{k}={v}", KEYS, st.one_of(NASTY_TEXT, JSON_VALUES.map(str))),
                     max_size=3)


@st.composite
def recipe_text(draw, prompts: str) -> bytes:
    config = draw(st.sampled_from(TEMPLATES).flatmap(lambda t: near_miss(t, max_edits=3)))
    if isinstance(config, dict) and draw(st.integers(0, 4)):
        config["prompts"] = prompts  # mostly an existing prompt file, so the checks after it are reached
    text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False).encode("utf-8", "surrogatepass")
    return text[: draw(st.integers(0, len(text)))] if draw(st.integers(0, 9)) == 0 else text


@FUZZ
@given(data=st.data(), overrides=OVERRIDES)
@example(data=None, overrides=["iterations=0"])
@example(data=None, overrides=["recipe=curry_dpo", "sample.n=2"])
@example(data=None, overrides=["train.loss.beta=x"])
@example(data=None, overrides=["judges=[1, 2]"])
@example(data=None, overrides=["train.lora=true"])  # once an AttributeError while planning (found by the sweep)
def test_load_and_plan_a_recipe(data, overrides, tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    prompts = write(base / "prompts.jsonl", b'{"id": "a", "prompt": "Hi?"}\n')
    if data is None:  # an @example: the shipped SPPO recipe with the overrides
        content = (RECIPES / "sppo.yaml").read_bytes().replace(b"data/prompts.jsonl", str(prompts).encode())
    else:
        content = data.draw(recipe_text(str(prompts)))
    path = write(base / "recipe.yaml", content)
    cfg = expect_clean(load_recipe_config, path, [*overrides, f"output_dir={base / 'run'}"])
    if isinstance(cfg, MMAlignError):
        return
    assert isinstance(cfg, RecipeConfig)
    plan = expect_clean(build_plan, cfg)  # the train settings are checked here, before any stage runs
    if not isinstance(plan, MMAlignError):
        assert len(plan.rounds) == cfg.iterations and plan.stages
    else:
        assert isinstance(plan, ConfigError)


RUBRIC_LINES = st.fixed_dictionaries(
    {"id": st.one_of(st.text(max_size=6), st.integers(), st.none(), st.booleans())},
    optional={"rubric": st.one_of(JSON_VALUES, st.fixed_dictionaries({}, optional={
        "hard_rules": st.one_of(st.lists(NASTY_TEXT, max_size=3), JSON_VALUES),
        "principles": st.one_of(st.lists(NASTY_TEXT, max_size=3), JSON_VALUES)})),
        "accepted": st.one_of(st.booleans(), JSON_VALUES)})


@FUZZ
@given(content=jsonl_file(RUBRIC_LINES), use_rejected=st.booleans())
def test_load_rubrics(content, use_rejected, tmp_path_factory):
    path = write(tmp_path_factory.getbasetemp() / "rubrics.jsonl", content)
    found = expect_clean(load_rubrics, path, use_rejected=use_rejected, names=path)
    if not isinstance(found, MMAlignError):
        assert all(isinstance(r["hard_rules"], list) and isinstance(r["principles"], list) for r in found.values())


@FUZZ
@given(reply=st.one_of(st.text(max_size=300), NASTY_TEXT, JSON_VALUES.map(str),
                       st.builds(lambda a, b: f"Here:\n```json\n{a}\n```\n{b}", JSON_VALUES.map(str), NASTY_TEXT)))
def test_parse_a_rubric_reply(reply):
    """A model's reply is a rubric or a RubricProblem (counted by rubrics build), nothing else."""
    from mmalign.judge.rubric import RubricProblem

    try:
        rubric = parse_rubric(reply)
    except RubricProblem:
        return
    assert set(rubric) == {"hard_rules", "principles"}
