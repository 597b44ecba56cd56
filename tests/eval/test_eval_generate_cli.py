"""`mmalign eval SUITE --make-data ... --model tiny` end to end for every synthetic suite, then `mmalign report`."""

import json

import pytest

from mmalign.cli import eval as eval_cli
from mmalign.cli import report as report_cli
from mmalign.errors import MMAlignError

SUITES = {"synth-pope": ("random", "popular", "adversarial"), "synth-multi": ("sequence", "collage", "inset"),
          "synth-video": ("object", "direction", "temporal")}


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_suite_end_to_end(suite, tmp_path, tiny_llava_path, capsys):
    data, out = tmp_path / "data", tmp_path / "out"
    argv = [suite, "--make-data", str(data), "--count", "12", "--seed", "3", "--model", str(tiny_llava_path),
            "--out", str(out), "--batch-size", "4", "--max-new-tokens", "3"]
    if suite == "synth-video":
        argv += ["--video-frames", "2"]
    assert eval_cli.main(argv) == 0
    assert "wrote" in capsys.readouterr().out
    lines = (out / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 12 and all(isinstance(json.loads(x)["answer"], str) for x in lines)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["benchmark"] == suite and set(metrics["subsets"]) == set(SUITES[suite])
    assert metrics["overall"]["n"] == 12 and metrics["missing_answers"] == 0
    assert 0.0 <= metrics["overall"]["accuracy"] <= 100.0
    assert 0.0 <= metrics["overall"]["hallucination_rate"] <= 100.0
    assert metrics["inputs"]["model"] == str(tiny_llava_path) and metrics["generation"]["max_new_tokens"] == 3


def test_make_data_alone_then_score_predictions(tmp_path, capsys):
    data = tmp_path / "d"
    assert eval_cli.main(["synth-pope", "--make-data", str(data), "--count", "6"]) == 0
    rows = [json.loads(x) for x in (data / "questions.jsonl").read_text().splitlines()]
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": r["id"], "answer": "Yes." if r["truth"]["label"] == "yes" else "No."})
                             + "\n" for r in rows))
    assert eval_cli.main(["synth-pope", "--predictions", str(preds), "--data", str(data), "--out",
                          str(tmp_path / "o")]) == 0
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["overall"]["accuracy"] == 100.0 and metrics["overall"]["hallucination_rate"] == 0.0


def test_clear_errors(tmp_path, tiny_llava_path):
    with pytest.raises(MMAlignError, match="synthetic suites only"):
        eval_cli.main(["pope", "--make-data", str(tmp_path / "x")])
    with pytest.raises(MMAlignError, match="missing --data"):
        eval_cli.main(["pope", "--model", "m", "--out", str(tmp_path)])
    with pytest.raises(MMAlignError, match="--model or --predictions"):
        eval_cli.main(["pope", "--data", "d", "--out", str(tmp_path)])
    # a video suite without --video-frames says what to do, before generating anything
    data = tmp_path / "v"
    with pytest.raises(MMAlignError, match="--video-frames N"):
        eval_cli.main(["synth-video", "--make-data", str(data), "--count", "6", "--model", str(tiny_llava_path),
                       "--out", str(tmp_path / "o")])
    assert not (tmp_path / "o" / "predictions.jsonl").exists()


def test_report_from_two_runs(tmp_path, tiny_llava_path):
    data = tmp_path / "data"
    assert eval_cli.main(["synth-multi", "--make-data", str(data), "--count", "6"]) == 0
    runs = []
    for name, extra in (("greedy3", ["--max-new-tokens", "3"]), ("greedy1", ["--max-new-tokens", "1"])):
        out = tmp_path / "runs" / name / "synth-multi"
        assert eval_cli.main(["synth-multi", "--data", str(data), "--model", str(tiny_llava_path),
                              "--out", str(out), *extra]) == 0
        runs.append(str(out.parent))
    assert report_cli.main([*runs, "--out", str(tmp_path / "report")]) == 0
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    bench = report["benchmarks"]["synth-multi"]
    assert set(bench["checkpoints"]) == {"greedy3", "greedy1"}
    assert bench["metrics"][:2] == ["accuracy", "hallucination_rate"]
    png = (tmp_path / "report" / "report.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 1000
    assert "| greedy1 |" in (tmp_path / "report" / "report.md").read_text()
