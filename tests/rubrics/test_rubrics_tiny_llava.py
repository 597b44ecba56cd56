"""One real run on a tiny random LLaVA: its replies are noise, so only the files and counts are checked."""

import json

from mmalign.cli.main import main
from mmalign.rubrics import REASONS


def test_a_tiny_llava_run_writes_consistent_files(tiny_llava_path, synth_pairs, tmp_path, capsys):
    data, root = synth_pairs
    three = tmp_path / "three.jsonl"
    three.write_text("".join(data.read_text().splitlines(keepends=True)[:3]))
    out = tmp_path / "out"
    argv = ["rubrics", "build", "--model", str(tiny_llava_path), "--data", str(three), "--root", str(root),
            "--out", str(out), "--samples", "2", "--max-new-tokens", "6", "--judge-max-new-tokens", "3",
            "--device", "cpu"]
    assert main(argv) == 0
    assert "accepted a rubric for" in capsys.readouterr().out
    lines = [json.loads(x) for x in (out / "rubrics.jsonl").read_text().splitlines()]
    parts = [json.loads(x) for x in (out / "parts" / "rubrics-0.jsonl").read_text().splitlines()]
    ids = [json.loads(x)["id"] for x in three.read_text().splitlines()]
    assert [x["id"] for x in lines] == ids and sorted(p["id"] for p in parts) == sorted(ids)
    summary = json.loads((out / "rubrics_summary.json").read_text())
    assert summary["records"] == 3 and sum(summary["reasons"].values()) == 3
    assert summary["attempts"]["total"] == sum(x["attempts"] for x in lines) == sum(len(p["tries"]) for p in parts)
    assert sum(summary["attempts"][r] for r in REASONS) == summary["attempts"]["total"]
    for line, part in zip(lines, sorted(parts, key=lambda p: ids.index(p["id"]))):
        assert 1 <= line["attempts"] <= 2 and line["accepted"] == (line["reason"] == "accepted")
        assert {k: part[k] for k in line} == line and all(isinstance(t["rubric_reply"], str) for t in part["tries"])
    assert main(argv) == 0  # the finished run, rerun: the same files
    assert [json.loads(x) for x in (out / "rubrics.jsonl").read_text().splitlines()] == lines


def test_the_judge_step_runs_on_a_real_model_with_the_image(tiny_llava_path, synth_pairs):
    """The tiny model never writes a rubric that parses, so the judge step is driven here with one given."""
    from mmalign.rubrics import RubricSettings, read_pairs
    from mmalign.rubrics.build import load_maker

    data, root = synth_pairs
    records, _ = read_pairs(data, root, "error")
    maker = load_maker(str(tiny_llava_path), None, root, RubricSettings(judge_max_new_tokens=3), "cpu", None)
    rubric = {"hard_rules": ["Answer yes or no."], "principles": ["Say what the image shows."]}
    p_chosen, replies = maker.verdict(records[0], rubric)
    assert p_chosen is None or 0.0 <= p_chosen <= 1.0
    assert len(replies) == 2 and all(len(r) == 1 and isinstance(r[0], str) for r in replies)
    assert maker.verdict(records[0], rubric) == (p_chosen, replies)  # greedy: the same again
