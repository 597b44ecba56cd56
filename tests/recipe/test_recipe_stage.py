"""What a stage's fingerprint covers: outside inputs (files, model folders, models named in judge specs)
by size and time, nothing inside the recipe's own folder."""

import os

from mmalign.recipe.stage import Stage, fingerprint, outside_inputs


def test_outside_inputs_stamp_files_folders_and_judge_models(tmp_path):
    out = tmp_path / "run"
    (out / "iter-1").mkdir(parents=True)
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("{}\n")
    judge_model = tmp_path / "rm"
    judge_model.mkdir()
    (judge_model / "config.json").write_text("{}")
    params = {"data": str(prompts), "inside": str(out / "iter-1"), "judges": [f"reward-model:model={judge_model},x=1"],
              "rule": "best-worst"}
    found = outside_inputs(params, out)
    assert set(found) == {str(prompts), str(judge_model)}
    assert found[str(judge_model)] == [["config.json", 2, (judge_model / "config.json").stat().st_mtime_ns]]


def test_fingerprint_changes_with_an_outside_file_and_an_upstream_stage(tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("{}\n")
    stage = Stage(1, "generate", "generate", {"data": str(prompts)}, ("iter-1/prompts",))
    a = fingerprint(stage, {"iter-1/prompts": "x"}, tmp_path / "run")
    assert a == fingerprint(stage, {"iter-1/prompts": "x"}, tmp_path / "run")
    assert a != fingerprint(stage, {"iter-1/prompts": "y"}, tmp_path / "run")
    prompts.write_text('{"id": 1}\n')
    os.utime(prompts, ns=(1, 1))
    assert a != fingerprint(stage, {"iter-1/prompts": "x"}, tmp_path / "run")


def test_the_summary_is_written_once_per_round(tmp_path, tiny_llava_path, synth_pairs, monkeypatch):
    from recipe_kit import few_prompts, tiny_recipe

    from mmalign.recipe import runner

    calls = []
    monkeypatch.setattr(runner, "write_summary", lambda cfg, plan, out, upto: calls.append(upto))
    cfg = tiny_recipe("iterative_dpo", str(tiny_llava_path), few_prompts(synth_pairs, tmp_path), str(tmp_path / "r"))
    runner.run_recipe(cfg, log=lambda *_: None)
    assert calls == [1, 2]
