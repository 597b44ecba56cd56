"""scripts/recipe_miniature.py: the judge's training target, the per-round SPPO criterion, and --quick end to end
(output files, ranges, SPPO's own start and settings)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import yaml
from helpers import load_script, run_quick_script

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "recipe_miniature.py"


def _module():
    return load_script("recipe_miniature")


def test_judge_target_checks_each_attribute_then_adds_points():
    mini = _module()
    ref = "A red circle. A blue square."
    assert mini.judge_target("A red circle. A blue square.", ref) == "red yes circle yes blue yes square yes. Score: 5"
    assert mini.judge_target("A red cross. A green square.", ref) == "red yes cross no green no square yes. Score: 3"
    assert mini.judge_target("A red circle.", ref) == "red yes circle yes. Score: 3"
    assert mini.judge_target("No.", ref) == ". Score: 0"


def test_win_rate_counts_ties_half():
    mini = _module()
    assert mini.win_rate({"a": [4, 2], "b": [1, 3]}, {"a": [3, 2], "b": [2, 3]}) == 0.5  # win, tie, loss, tie


def test_rounds_of_reports_each_seed_and_whether_the_mean_rises():
    mini = _module()
    rows = [{"seed": seed, "recipe": "sppo", "iteration": t, "win_rate_vs_start": w}
            for seed, wins in ((0, (0.5, 0.52, 0.55)), (1, (0.5, 0.56, 0.54))) for t, w in enumerate(wins)]
    got = mini.rounds_of(rows, "sppo")
    assert got["mean"] == [0.5, 0.54, 0.545] and got["seeds"]["1"] == [0.5, 0.56, 0.54]
    assert got["mean_rises"] and not got["every_seed_rises"]  # seed 1 falls in round 2


def test_quick_miniature(tmp_path):
    out = tmp_path / "mini"
    run_quick_script("recipe_miniature.py", out, timeout=120)
    res = json.loads((out / "results.json").read_text())
    assert res["seeds"] == [0] and 0 <= res["start_heldout_graded"] <= 4
    assert 0 <= res["judge_check"]["parsed"] <= 1
    assert (out / "miniature.png").stat().st_size > 1000
    with open(out / "miniature.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["recipe"] for r in rows} == {"self_rewarding", "temporal_self_rewarding", "sppo"}
    for r in rows:
        assert 0 <= float(r["heldout_graded"]) <= 4 and 0 <= float(r["win_rate_vs_start"]) <= 1
        if r["iteration"] != "0":
            assert int(r["pairs"]) >= 1 and float(r["judge_gap"]) > 0
    for recipe in ("self_rewarding", "temporal_self_rewarding", "sppo"):
        assert (out / "seed-0" / recipe / "summary.csv").is_file()
    # SPPO runs from its own start (describe records only, no judge records) with its own settings
    built = json.loads((out / "start-sppo" / "built.json").read_text())["settings"]
    assert built["sft_judge"] == 0 and built["sft_steps"] == res["settings"]["sppo_start_steps"]
    assert 0 <= res["sppo_start_heldout_graded"] <= 4
    assert [r["heldout_graded"] for r in rows if r["recipe"] == "sppo" and r["iteration"] == "0"] == \
        [str(res["sppo_start_heldout_graded"])]
    sppo = yaml.safe_load((out / "seed-0" / "sppo.yaml").read_text())
    assert sppo["model"] == str(out / "start-sppo" / "sft" / "final")
    assert sppo["train"]["loss"] == {"name": "sppo", "beta": res["settings"]["sppo_beta"]}
    assert sppo["prompts_per_iteration"] == res["settings"]["sppo_prompts"]
    assert len(res["sppo_win_rate"]["mean"]) == 2 and res["sppo_win_rate"]["seeds"]["0"][0] == 0.5
