"""Resuming a recipe: finished stages are skipped while their settings stand, a changed setting reruns its
stage and everything after it, and a recipe killed mid-stage ends, once rerun, with the same weights as an
uninterrupted run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from recipe_kit import CONFIGS, few_prompts, tiny_overrides, tiny_recipe

from mmalign.cli.main import main as cli
from mmalign.recipe import run_recipe

REPO = Path(__file__).resolve().parents[2]


def _run(cfg) -> list[str]:
    lines: list[str] = []
    run_recipe(cfg, log=lines.append)
    return lines


def _ran(lines: list[str]) -> list[str]:
    return [line.split("] ")[1].split(":")[0] for line in lines if line.endswith(("generate", "score", "pairs",
                                                                                    "train", "merge"))]


def test_rerun_skips_finished_stages_and_a_change_reruns_what_depends_on_it(tmp_path, tiny_llava_path, synth_pairs):
    prompts = few_prompts(synth_pairs, tmp_path)
    args = (str(tiny_llava_path), prompts, str(tmp_path / "run"))
    first = _ran(_run(tiny_recipe("iterative_dpo", *args)))
    assert first == ["iter-1/generate", "iter-1/score", "iter-1/pairs", "iter-1/train",
                     "iter-2/generate", "iter-2/score", "iter-2/pairs", "iter-2/train"]
    marker = tmp_path / "run/iter-2/train/stage.json"
    stamp = marker.stat().st_mtime_ns
    again = _run(tiny_recipe("iterative_dpo", *args))
    assert _ran(again) == [] and sum("done earlier, skipped" in line for line in again) == 8
    assert marker.stat().st_mtime_ns == stamp
    # a training setting of every round changes: round 1's sampling, scoring and pairs stand
    changed = _ran(_run(tiny_recipe("iterative_dpo", *args, **{"train.learning_rate": 2e-3})))
    assert changed == ["iter-1/train", "iter-2/generate", "iter-2/score", "iter-2/pairs", "iter-2/train"]


def test_an_unfinished_stage_starts_again_from_nothing(tmp_path, tiny_llava_path, synth_pairs):
    prompts = few_prompts(synth_pairs, tmp_path)
    cfg = tiny_recipe("iterative_dpo", str(tiny_llava_path), prompts, str(tmp_path / "run"), iterations=1)
    _run(cfg)
    stale = tmp_path / "run/iter-1/train"
    (stale / "stage.json").unlink()  # as if killed before the marker was written
    (stale / "leftover.txt").write_text("from the killed attempt")
    assert _ran(_run(cfg)) == ["iter-1/train"]
    assert not (stale / "leftover.txt").exists() and (stale / "stage.json").is_file()


def _cli_run(config: Path, env_fault: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    env.pop("MMALIGN_FAULT", None)
    if env_fault:
        env["MMALIGN_FAULT"] = env_fault
    return subprocess.run([sys.executable, "-m", "mmalign.cli.main", "recipe", str(config)], env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def _write_config(path: Path, model, prompts, out) -> Path:
    data = yaml.safe_load((CONFIGS / "iterative_dpo.yaml").read_text())
    for item in tiny_overrides(model, prompts, out):
        key, value = item.split("=", 1)
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = yaml.safe_load(value)
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory, tiny_llava_path, synth_pairs):
    """One uninterrupted recipe run, the reference of every kill below."""
    folder = tmp_path_factory.mktemp("recipe-whole")
    prompts = few_prompts(synth_pairs, folder)
    config = _write_config(folder / "whole.yaml", str(tiny_llava_path), prompts, str(folder / "whole"))
    assert _cli_run(config, None).returncode == 0
    return folder / "whole", prompts


@pytest.mark.parametrize("fault", ["optimizer-step:3", "generate-line:9"])
def test_killed_recipe_resumes_to_the_same_final_weights(tmp_path, tiny_llava_path, whole_run, fault):
    """optimizer-step:3 dies in round 2's training (round 1 takes 2 steps); generate-line:9 in round 2's
    sampling (round 1 writes 6 prompts)."""
    whole, prompts = whole_run
    killed = _write_config(tmp_path / "killed.yaml", str(tiny_llava_path), prompts, str(tmp_path / "killed"))
    died = _cli_run(killed, fault)
    assert died.returncode == -9, died.stderr[-2000:]
    assert not (tmp_path / "killed/iter-2/train/final").exists()
    resumed = _cli_run(killed, None)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "iter-1/train: done earlier, skipped" in resumed.stdout
    a = (whole / "iter-2/train/final/model.safetensors").read_bytes()
    b = (tmp_path / "killed/iter-2/train/final/model.safetensors").read_bytes()
    assert a == b
    whole_rows = (whole / "summary.csv").read_text().replace(str(whole), "OUT")
    assert whole_rows == (tmp_path / "killed/summary.csv").read_text().replace(str(tmp_path / "killed"), "OUT")


def test_dry_run_prints_every_stage_and_writes_nothing(tmp_path, tiny_llava_path, synth_pairs, capsys):
    prompts = few_prompts(synth_pairs, tmp_path)
    config = _write_config(tmp_path / "r.yaml", str(tiny_llava_path), prompts, str(tmp_path / "run"))
    assert cli(["recipe", str(config), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "8 stages" in out and "mmalign generate --model" in out and "mmalign pairs --data" in out
    assert f"round 2: policy and reference {tmp_path / 'run/iter-1/train/final'}" in out
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("override, message", [
    ("iterationz=2", "unknown config key 'iterationz'"),
    ("pair_rule=best-worst", "sppo: pair_rule must be win-prob"),
    ("train.loss.beta=high", "loss"),
    ("prompts=/nonexistent.jsonl", "/nonexistent.jsonl does not exist"),
])
def test_bad_recipe_settings_are_one_clear_error(tmp_path, tiny_llava_path, synth_pairs, capsys, override, message):
    prompts = few_prompts(synth_pairs, tmp_path)
    config = _write_config(tmp_path / "r.yaml", str(tiny_llava_path), prompts, str(tmp_path / "run"))
    data = yaml.safe_load(config.read_text())
    data.update(recipe="sppo", pair_rule="win-prob:sigmoid", train={**data["train"], "loss": {"name": "sppo"}})
    config.write_text(yaml.safe_dump(data))
    assert cli(["recipe", str(config), override]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()  # refused before any stage ran
