"""scripts/reference_probe.py --quick end to end: every stage runs and the results add up."""

from __future__ import annotations

import json

import yaml
from helpers import run_quick_script


def test_quick_probe_writes_results(tmp_path):
    out = tmp_path / "probe"
    run_quick_script("reference_probe.py", out, timeout=180)
    res = json.loads((out / "results.json").read_text())
    r = res["recipe"]
    assert set(res["models"]) == {"base", "capacity", "mia_dpo"}
    for m in res["models"].values():
        assert 0.0 <= m["synth-pope"] <= 100.0 and 0.0 <= m["synth-multi"] <= 100.0
        assert sum(m["multi_outcomes"].values()) == r["multi_questions"]  # every question counted once
    assert set(res["text_accuracy"]) <= {"colour", "shape", "exists"}
    # The open-question pairs are exactly the ones DPO trained on; the yes/no ones are only counted.
    open_pairs = (out / "pairs" / "open.jsonl").read_text().splitlines()
    built = (out / "pairs" / "pairs.jsonl").read_text().splitlines()
    assert res["pairs"].get("open", 0) == len(open_pairs) and sum(res["pairs"].values()) == len(built)
    # Alignment trained the projector only; the text stage saw text only.
    align = yaml.safe_load((out / "align.yaml").read_text())
    assert align["freeze_language_model"] is True and align["data_format"] == "llava"
    text = [json.loads(line) for line in (out / "text" / "text.jsonl").read_text().splitlines()]
    assert text and all("images" not in row for row in text)
    assert "| base | sequence |" in (out / "results.md").read_text()
