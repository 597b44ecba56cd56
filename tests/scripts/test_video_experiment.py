"""scripts/video_experiment.py --quick end to end: before/after numbers for VDPO and PaMi-VDPO."""

from __future__ import annotations

import json

from helpers import run_quick_script


def test_quick_experiment_writes_before_and_after(tmp_path):
    out = tmp_path / "exp"
    run_quick_script("video_experiment.py", out, timeout=120)
    res = json.loads((out / "results.json").read_text())
    for method in ("vdpo", "pami_vdpo"):
        change = res["paired_accuracy_change"][method]
        assert set(change) == {"before", "after"}
        assert all(0.0 <= v <= 100.0 for v in change.values())
    for model in ("sft", "vdpo", "pami_vdpo"):
        groups = [res["models"][model]["overall"], *res["models"][model]["subsets"].values()]
        assert set(res["models"][model]["subsets"]) == {"object", "direction", "temporal"}
        for group in groups:
            assert all(0.0 <= group[k] <= 100.0 for k in ("accuracy", "paired_accuracy", "hallucination_rate"))
    assert "| SFT (before) | all |" in (out / "results.md").read_text()
    # Training clips, preference clips and the held-out suite come from three different seeds.
    assert len(set(res["seeds"].values())) == 3
    # VDPO trained on offline perturbed clips; PaMi-VDPO scored K = 4 online candidates per record.
    pairs = [json.loads(line) for line in (out / "vdpo-pairs" / "video_pairs.jsonl").read_text().splitlines()]
    assert pairs and all((out / "vdpo-pairs" / p["rejected_videos"][0]).is_file() for p in pairs)
    r = res["recipe"]
    assert res["pami_vdpo_selection"]["candidates"] == 4 * r["dpo_steps"] * r["dpo_batch"]
    for run in ("vdpo", "pami_vdpo"):
        assert (out / run / "final" / "adapter_config.json").is_file()
