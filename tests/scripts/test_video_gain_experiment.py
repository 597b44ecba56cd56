"""scripts/video_gain_experiment.py: the starting model's question filter; --quick end to end (every arm x seed
has before/after paired accuracy per subset, the mean over seeds, the goal check, the chart)."""

from __future__ import annotations

import json

import pytest
from helpers import load_script, run_quick_script

from mmalign.errors import MMAlignError

SUBSETS = {"object", "direction", "temporal"}


def test_question_kind_tells_the_nine_questions_apart():
    mod = load_script("video_gain_experiment")
    assert mod.question_kind("<video>\nIs there a red circle in the video?") == "object"
    assert mod.question_kind("<video>\nDoes the red circle move left?") == "direction"
    assert mod.question_kind("<video>\nIs the red circle on the right before it is on the left?") == "temporal"
    assert mod.question_kind("<video>\nWhich way does the red circle move?") == "open_direction"
    with pytest.raises(MMAlignError, match="unrecognised question"):
        mod.question_kind("<video>\nHow many circles?")


def test_weak_sft_data_leaves_out_motion_questions(tmp_path):
    mod = load_script("video_gain_experiment")
    path, counts = mod.write_weak_sft_data(tmp_path, mod.Recipe(sft_clips=3))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    kinds = {mod.question_kind(r["prompt"]) for r in rows}
    assert kinds == {"object", "colour", "shape"}
    assert counts == {"object": 6, "colour": 3, "shape": 3}
    with pytest.raises(MMAlignError, match="sft_kinds"):
        mod.write_weak_sft_data(tmp_path, mod.Recipe(sft_clips=1, sft_kinds=("motion",)))


def test_quick_experiment_has_every_arm_and_seed(tmp_path):
    out = tmp_path / "exp"
    run_quick_script("video_gain_experiment.py", out, timeout=240)
    res = json.loads((out / "results.json").read_text())
    seeds = [str(s) for s in res["recipe"]["seeds"]]
    assert len(seeds) >= 2
    assert set(res["base"]["metrics"]["subsets"]) == SUBSETS
    assert res["base"]["sft_questions"] and "direction" not in res["base"]["sft_questions"]
    for arm in ("pami_vdpo", "vdpo", "nll"):
        a = res["arms"][arm]
        assert list(a["seeds"]) == seeds
        for seed in seeds:
            run = a["seeds"][seed]
            for side in ("before", "after"):
                assert set(run[side]["subsets"]) == SUBSETS
                for group in (run[side]["overall"], *run[side]["subsets"].values()):
                    assert 0.0 <= group["paired_accuracy"] <= 100.0
            # The starting model is shared: every run's "before" is the same evaluation.
            assert run["before"] == {k: res["base"]["metrics"][k] for k in ("overall", "subsets")}
            assert (out / f"{arm}-s{seed}" / "final" / "adapter_config.json").is_file()
        mean = a["mean"]
        assert set(mean) == {"before", "after", "change"}
        for key in ("all", *SUBSETS):
            afters = [a["seeds"][s]["after"]["subsets"][key]["paired_accuracy"] if key != "all"
                      else a["seeds"][s]["after"]["overall"]["paired_accuracy"] for s in seeds]
            assert mean["after"][key] == pytest.approx(sum(afters) / len(afters), abs=0.01)
    # PaMi-VDPO scored K = 4 candidates per record; VDPO's pairs differ per seed (their own draws).
    r = res["recipe"]
    sel = res["arms"]["pami_vdpo"]["seeds"][seeds[0]]["selection"]
    assert sel["candidates"] == 4 * r["dpo_steps"] * r["dpo_batch"]
    for seed in seeds:
        assert (out / f"vdpo-pairs-s{seed}" / "video_pairs.jsonl").is_file()
    assert set(res["goal"]) >= {"gain", "worst_subset_change", "met"}
    assert "| PaMi-VDPO | " + seeds[0] + " |" in (out / "results.md").read_text()
    assert (out / "results.png").read_bytes()[:4] == b"\x89PNG"


def test_set_overrides_parse_as_the_field_types():
    mod = load_script("video_gain_experiment")
    r = mod.with_settings(mod.Recipe(), ["dpo_lr=1e-3", "seeds=0,2", "arms=pami_vdpo", "dpo_steps=10"])
    assert (r.dpo_lr, r.seeds, r.arms, r.dpo_steps) == (1e-3, (0, 2), ("pami_vdpo",), 10)
    with pytest.raises(MMAlignError, match="KEY=VALUE"):
        mod.with_settings(mod.Recipe(), ["no_such_field=1"])
    with pytest.raises(MMAlignError, match="dpo_steps"):
        mod.with_settings(mod.Recipe(), ["dpo_steps=ten"])
