"""`mmalign data synth llava --kinds`: instructions drawn from the named question kinds only; bad kinds exit 1."""

import json

from mmalign.cli.main import main


def test_kinds_limits_the_question_kinds(tmp_path):
    assert main(["data", "synth", "llava", "--out", str(tmp_path / "open"), "--count", "60", "--kinds", "colour,shape"]) == 0
    rows = json.loads((tmp_path / "open" / "llava.json").read_text())
    assert len(rows) == 60 and {r["meta"]["kind"] for r in rows} == {"colour", "shape"}
    assert main(["data", "synth", "llava", "--out", str(tmp_path / "all"), "--count", "60"]) == 0
    assert {r["meta"]["kind"] for r in json.loads((tmp_path / "all" / "llava.json").read_text())} == {
        "colour", "shape", "exists", "object"}


def test_bad_kinds_exit_1_with_the_valid_ones(tmp_path, capsys):
    assert main(["data", "synth", "llava", "--out", str(tmp_path), "--kinds", "colour,size"]) == 1
    assert "unknown question kind(s) size" in capsys.readouterr().out
    assert main(["data", "synth", "pairs", "--out", str(tmp_path), "--kinds", "colour"]) == 1
    assert "--kinds applies to 'llava' only" in capsys.readouterr().out
    assert not (tmp_path / "llava.json").exists()
