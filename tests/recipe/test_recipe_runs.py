"""Every shipped recipe runs 2 small rounds on the tiny LLaVA; each training's reference is the model the
round started from (the previous round's final policy)."""

import csv
import json
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from recipe_kit import RECIPES, few_prompts, metrics, tiny_recipe

from mmalign.recipe import build_plan, run_recipe


@pytest.mark.parametrize("name", RECIPES)
def test_shipped_recipe_runs_two_rounds(tmp_path, tiny_llava_path, synth_pairs, name):
    data = few_prompts(synth_pairs, tmp_path)
    cfg = tiny_recipe(name, str(tiny_llava_path), str(data), str(tmp_path / "run"))
    plan = run_recipe(cfg, log=lambda *_: None)
    out = tmp_path / "run"
    rows = list(csv.DictReader(Path(out / "summary.csv").read_text().splitlines()))
    assert [int(r["iteration"]) for r in rows] == [1, 2]
    assert rows[1]["policy"] == rows[0]["next_policy"] == plan.rounds[1].policy
    assert all(int(r["pairs"]) > 0 and float(r["judge_gap"]) > 0 for r in rows)
    assert all(0 <= float(r["oracle_agreement"]) <= 1 for r in rows)
    assert (out / "summary.png").stat().st_size > 1000
    trains = [s for s in plan.stages if s.kind == "train"]
    assert len(trains) == {"temporal_self_rewarding": 4, "curry_dpo": 4}.get(name, 2)
    for stage in trains:
        folder = out / stage.key
        resolved = yaml.safe_load((folder / "config.yaml").read_text())
        assert resolved["model"] == stage.params["config"]["model"]
        first = metrics(folder)[0]
        # policy == reference at the first step: both are the stage's starting model
        assert first["rewards/chosen"] == pytest.approx(0.0, abs=1e-5)
        assert first["rewards/rejected"] == pytest.approx(0.0, abs=1e-5)
        assert (folder / "final").is_dir() and json.loads((folder / "stage.json").read_text())["kind"] == "train"
    # round 2 starts from round 1's final model, which differs from the start
    assert plan.rounds[1].policy == str(out / plan.rounds[0].trains[-1] / "final")


def test_sppo_pairs_carry_win_probabilities_and_train_with_the_sppo_loss(tmp_path, tiny_llava_path, synth_pairs):
    data = few_prompts(synth_pairs, tmp_path)
    cfg = tiny_recipe("sppo", str(tiny_llava_path), str(data), str(tmp_path / "run"), iterations=1)
    run_recipe(cfg, log=lambda *_: None)
    pairs = [json.loads(line) for line in (tmp_path / "run/iter-1/pairs/pairs.jsonl").read_text().splitlines()]
    assert pairs and all(0.5 < p["scores"]["chosen_win_prob"] <= 1 and 0 <= p["scores"]["rejected_win_prob"] < 0.5
                         for p in pairs)
    resolved = yaml.safe_load((tmp_path / "run/iter-1/train/config.yaml").read_text())
    assert resolved["loss"]["name"] == "sppo" and resolved["loss"]["beta"] == 0.001


def test_curry_stages_chain_models_easy_to_hard(tmp_path, tiny_llava_path, synth_pairs):
    data = few_prompts(synth_pairs, tmp_path)
    cfg = tiny_recipe("curry_dpo", str(tiny_llava_path), str(data), str(tmp_path / "run"), iterations=1)
    plan = build_plan(cfg)
    trains = [s for s in plan.stages if s.kind == "train"]
    assert [s.name for s in trains] == ["train-1", "train-2"]
    assert trains[0].params["config"]["model"] == str(tiny_llava_path)
    for before, after in pairwise(trains):
        assert after.params["config"]["model"] == str(tmp_path / "run" / before.key / "final")
        assert before.key in after.after
    run_recipe(cfg, log=lambda *_: None)
    stages = json.loads((tmp_path / "run/iter-1/stages/stage.json").read_text())["result"]["stage_pairs"]
    for k in (1, 2):
        rows = (tmp_path / f"run/iter-1/stages/stage-{k}.jsonl").read_text().splitlines()
        assert len(rows) == stages[k - 1] > 0
    # each prompt's pairs: the stage-1 pair has the largest gap of that prompt (easy first)
    by_prompt: dict = {}
    for k in (1, 2):
        for x in (tmp_path / f"run/iter-1/stages/stage-{k}.jsonl").read_text().splitlines():
            r = json.loads(x)
            by_prompt.setdefault(r["id"].split("#")[0], []).append(r["meta"]["score_gap"])
    assert by_prompt and all(g == sorted(g, reverse=True) for g in by_prompt.values())


def test_temporal_rejections_come_from_the_starting_models_answers(tmp_path, tiny_llava_path, synth_pairs):
    data = few_prompts(synth_pairs, tmp_path)
    cfg = tiny_recipe("temporal_self_rewarding", str(tiny_llava_path), str(data), str(tmp_path / "run"),
                      iterations=1)
    run_recipe(cfg, log=lambda *_: None)
    out = tmp_path / "run"
    anchored = {}
    for line in (out / "iter-0/anchor-generate/candidates.jsonl").read_text().splitlines():
        r = json.loads(line)
        anchored[r["id"]] = {c["text"] for c in r["candidates"]}
    future = {}
    for line in (out / "iter-1/future-generate/candidates.jsonl").read_text().splitlines():
        r = json.loads(line)
        future[r["id"]] = {c["text"] for c in r["candidates"]}
    pairs = [json.loads(x) for x in (out / "iter-1/pairs/pairs.jsonl").read_text().splitlines()]
    assert pairs
    for p in pairs:
        assert p["rejected"] in anchored[p["id"]] and p["chosen"] in future[p["id"]]
        assert p["scores"]["chosen"] > p["scores"]["rejected"]
    future_cfg = yaml.safe_load((out / "iter-1/future-train/config.yaml").read_text())
    assert future_cfg["data"] == str(out / "iter-1/current-pairs/pairs.jsonl")
    assert (out / "iter-1/future-generate/stage.json").is_file()


def test_iterative_dpo_on_text_prompts(tmp_path):
    """The same loop for a text-only model: prompts without media, a text policy."""
    from mmalign.data.synth.text import write_text_pairs
    from mmalign.models.tiny_registry import TINY_BUILDERS

    model = TINY_BUILDERS["tiny-llama"](tmp_path / "llama", seed=1)
    prompts = write_text_pairs(tmp_path / "data", seed=2, count=6)
    cfg = tiny_recipe("iterative_dpo", str(model), str(prompts), str(tmp_path / "run"))
    plan = run_recipe(cfg, log=lambda *_: None)
    rows = list(csv.DictReader(Path(tmp_path / "run" / "summary.csv").read_text().splitlines()))
    assert [int(r["iteration"]) for r in rows] == [1, 2] and all(int(r["pairs"]) > 0 for r in rows)
    first = metrics(tmp_path / "run" / plan.rounds[1].trains[0])[0]
    assert first["rewards/chosen"] == pytest.approx(0.0, abs=1e-6)
