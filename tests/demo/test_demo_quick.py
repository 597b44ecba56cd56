"""The demo pipeline end to end on a few questions and steps (the fast variant of `make demo`)."""

import json

from mmalign.cli.main import main as cli


def test_quick_demo_writes_report(tmp_path, capsys):
    out = tmp_path / "demo"
    assert cli(["demo", "--quick", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    for key in ("single_image_acc", "multi_image_acc"):
        assert set(report[key]) == {"before", "after"}
        assert all(0.0 <= v <= 1.0 for v in report[key].values())
    assert set(report["hallucination_rate"]) == {"sequence", "collage", "inset"}
    seed = report["per_seed"][0]
    pairs = [json.loads(line) for line in (out / "seed-0" / "pairs" / "pairs.jsonl").read_text().splitlines()]
    assert sum(seed["pairs_per_format"].values()) == len(pairs)
    built = {"sequence": "sequence", "grid_collage": "collage", "pic_in_pic": "inset"}
    for fmt in ("sequence", "collage", "inset"):  # build-data's format names map onto the suites'
        n = sum(built[p["meta"]["format"]] == fmt for p in pairs)
        assert seed["pairs_per_format"].get(fmt, 0) == n == report["pairs_per_format"][fmt]
    assert seed["processed"] == 24
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "multi-image accuracy (synth-multi)" in printed and "| metric | before | after | change |" in printed
    # The DPO step really trained a LoRA adapter on the built pairs.
    assert (out / "seed-0" / "dpo" / "final" / "adapter_config.json").is_file()
