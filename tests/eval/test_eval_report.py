import json

import pytest

from mmalign.cli import eval as eval_cli
from mmalign.cli import report as report_cli
from mmalign.errors import DataError
from mmalign.eval.report import write_report


def pope_files(tmp_path, answers):
    data = tmp_path / "coco_pope_random.json"
    data.write_text("".join(json.dumps({"question_id": i, "image": f"{i}.jpg", "text": "Is there a cat?",
                                        "label": lab}) + "\n" for i, lab in enumerate(["yes", "no"])))
    preds = tmp_path / f"preds_{len(answers[0])}.jsonl"
    preds.write_text("".join(json.dumps({"id": f"random/{i}", "answer": a}) + "\n" for i, a in enumerate(answers)))
    return data, preds


def test_eval_cli_then_report_cli(tmp_path, capsys):
    data, good = pope_files(tmp_path, ["Yes.", "No, there is not"])
    _, bad = pope_files(tmp_path, ["yes, there is", "Yes"])
    assert eval_cli.main(["pope", "--predictions", str(good), "--data", str(data), "--out", str(tmp_path / "A")]) == 0
    assert eval_cli.main(["pope", "--predictions", str(bad), "--data", str(data), "--out", str(tmp_path / "B")]) == 0
    out = capsys.readouterr().out
    assert "f1" in out and "random" in out
    a = json.loads((tmp_path / "A" / "metrics.json").read_text())
    assert a["overall"]["accuracy"] == 100.0
    b = json.loads((tmp_path / "B" / "metrics.json").read_text())
    # B: both "yes": TP 1, FP 1 -> accuracy 50, precision 50, recall 100, F1 2*.5/1.5, yes-ratio 100
    assert b["overall"]["f1"] == pytest.approx(200 / 3) and b["overall"]["yes_ratio"] == 100.0

    assert report_cli.main([str(tmp_path / "A"), str(tmp_path / "B"), "--out", str(tmp_path / "rep")]) == 0
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "| checkpoint | f1 | accuracy | yes_ratio |" in md.splitlines()[4]
    assert "| A | 100.00 | 100.00 | 50.00 |" in md
    assert "| B | 66.67 | 50.00 | 100.00 |" in md
    png = (tmp_path / "rep" / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert set(report["benchmarks"]["pope"]["checkpoints"]) == {"A", "B"}


def test_report_finds_benchmarks_in_subfolders_and_rejects_empty(tmp_path):
    for bench, value in (("pope", 80.0), ("chair", 12.5)):
        (tmp_path / "ckpt" / bench).mkdir(parents=True)
        metrics = {"benchmark": bench, "overall": {"f1" if bench == "pope" else "chair_i": value, "n": 3}}
        (tmp_path / "ckpt" / bench / "metrics.json").write_text(json.dumps(metrics))
    report = write_report([tmp_path / "ckpt"], tmp_path / "out")
    assert report["benchmarks"]["pope"]["checkpoints"] == {"ckpt": {"f1": 80.0}}
    assert report["benchmarks"]["chair"]["metrics"] == ["chair_i"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no metrics.json"):
        write_report([tmp_path / "empty"], tmp_path / "out2")


def test_eval_cli_reports_bad_predictions_as_data_error(tmp_path):
    data, preds = pope_files(tmp_path, ["Yes.", "No"])
    preds.write_text('{"id": "random/0", "answer": "Yes."}\n{"id": "random/1"}\n')
    with pytest.raises(DataError, match=r"preds_4.jsonl:2: missing field 'answer'"):
        eval_cli.main(["pope", "--predictions", str(preds), "--data", str(data), "--out", str(tmp_path / "o")])
    assert eval_cli.main(["pope", "--predictions", str(preds), "--data", str(data), "--out", str(tmp_path / "o"),
                          "--on-bad-record", "skip"]) == 0
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert m["missing_answers"] == 1 and m["bad_prediction_lines"] == {"missing_field": 1}


def test_report_shows_the_new_official_metrics_after_the_headline():
    from mmalign.eval.report import build_report, render_markdown

    hb = {"benchmark": "hallusionbench", "overall": {"aAcc": 60.0, "fAcc": 50.0, "qAcc": 40.0, "easy_aAcc": 30.0,
                                                     "hard_aAcc": 20.0, "yes_no_pct_diff": -20.0, "n": 5}}
    report = build_report([("ckpt", hb)])
    columns = report["benchmarks"]["hallusionbench"]["metrics"]
    assert columns == ["aAcc", "fAcc", "qAcc", "easy_aAcc", "hard_aAcc", "yes_no_pct_diff"]
    assert "| ckpt | 60.00 | 50.00 | 40.00 | 30.00 | 20.00 | -20.00 |" in render_markdown(report)
