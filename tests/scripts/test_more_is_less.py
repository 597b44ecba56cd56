"""scripts/more_is_less.py: the two pair sets share prompts and rejections; --quick end to end."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import load_script, run_quick_script

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "more_is_less.py"


def _module():
    return load_script("more_is_less")


def test_the_teacher_phrases_every_kind():
    mil = _module()
    assert mil.teacher("colour", "red") == "The answer is red."
    assert mil.teacher("shape", "circle") == "The answer is a circle."
    assert mil.teacher("exists", "yes") == "The answer is yes."


def test_quick_experiment(tmp_path):
    out = tmp_path / "mil"
    run_quick_script("more_is_less.py", out, timeout=300)
    res = json.loads((out / "results.json").read_text())
    (seed,) = res["seeds"].values()
    assert {"self", "multi", "base", "counts"} <= set(seed)
    for name in ("self", "multi"):
        assert 0 <= seed[name]["probe_auroc"]["last"] <= 1 and 0 <= seed[name]["accuracy"] <= 1
        assert 0 <= seed[name]["decoupled_preference_accuracy"] <= 1
    data = out / "seed-0" / "data"
    rows = {n: [json.loads(line) for line in (data / f"{n}.jsonl").read_text().splitlines()] for n in ("self", "multi")}
    assert len(rows["self"]) == len(rows["multi"]) == seed["counts"]["pairs"] > 0
    for a, b in zip(rows["self"], rows["multi"]):
        assert a["prompt"] == b["prompt"] and a["rejected"] == b["rejected"] and a["images"] == b["images"]
        assert b["chosen"][0]["content"][0]["text"].startswith("The answer is")
        assert not a["chosen"][0]["content"][0]["text"].lower().startswith("the answer")
    assert (out / "more_is_less.png").stat().st_size > 0 and "| probe AUROC" in (out / "results.md").read_text()
