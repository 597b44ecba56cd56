"""`mmalign rubrics build`: files and counts, bad input, and a kill at any line then a rerun giving the
files of an uninterrupted run (models faked: rubric_fakes)."""

import json

import pytest
from reliability.kill_helpers import assert_same_tree, count_lines, run_child

from mmalign.cli.main import main
from mmalign.errors import DataError, MMAlignError
from mmalign.judge.base import derived_seed
from mmalign.rubrics import RubricSettings, build_rubrics

RUBRIC = json.dumps({"hard_rules": ["Say yes or no."], "principles": ["Match the image."]})


def pairs(tmp_path, n=3, **extra):
    path = tmp_path / "pairs.jsonl"
    rows = [{"id": f"p{i}", "prompt": f"Is there a red circle, {i}?", "chosen": "Yes.", "rejected": "No."}
            for i in range(n)]
    for key, value in extra.items():
        rows[int(key[1:])].update(value)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def read(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_files_hold_one_line_per_record_and_the_counts(scripted, no_loading, tmp_path):
    script, _ = scripted
    # p0: accepted at once; p1: unparsed, then disagreed; p2: no verdict twice
    script += [RUBRIC, "[[A]]", "[[B]]", "no", RUBRIC, "[[B]]", "[[A]]", RUBRIC, "?", "?", RUBRIC, "?", "?"]
    data = pairs(tmp_path)
    summary = build_rubrics(data, "writer", tmp_path / "out", settings=RubricSettings(samples=2, seed=4),
                            progress=False)
    assert no_loading == ["writer"]  # one model, writer and judge
    lines = read(tmp_path / "out" / "rubrics.jsonl")
    assert [list(x) for x in lines] == [["id", "accepted", "reason", "attempts", "sample", "rubric"]] * 3
    assert [(x["id"], x["reason"], x["attempts"], x["sample"]) for x in lines] == [
        ("p0", "accepted", 1, 0), ("p1", "disagreed", 2, 1), ("p2", "no_verdict", 2, 1)]
    assert summary == json.loads((tmp_path / "out" / "rubrics_summary.json").read_text())
    assert summary["records"] == 3 and summary["accepted"] == 1 and summary["acceptance_rate"] == 0.3333
    assert summary["attempts"] == {"total": 5, "accepted": 1, "disagreed": 1, "unparsed": 1, "no_verdict": 2}
    assert summary["model"] == summary["judge_model"] == "writer" and summary["samples"] == 2
    part = read(tmp_path / "out" / "parts" / "rubrics-0.jsonl")
    assert part[1]["tries"][0] == {"sample": 0, "seed": derived_seed(4, "p1", 0, 0), "rubric_reply": "no",
                                   "reason": "unparsed", "problem": "the reply holds no JSON object", "rubric": None}


def test_another_judge_model_is_loaded_once_beside_the_writer(scripted, no_loading, tmp_path):
    scripted[0].extend([RUBRIC, "[[A]]", "[[B]]"])
    build_rubrics(pairs(tmp_path, n=1), "w", tmp_path / "o", judge_model="j", progress=False)
    assert no_loading == ["w", "j"]


def test_a_rerun_resumes_and_other_settings_are_refused(scripted, no_loading, tmp_path):
    scripted[0].extend([RUBRIC, "[[A]]", "[[B]]"] * 2)
    data, out = pairs(tmp_path, n=2), tmp_path / "out"
    first = build_rubrics(data, "w", out, settings=RubricSettings(samples=1), progress=False)
    assert build_rubrics(data, "w", out, settings=RubricSettings(samples=1), progress=False) == first
    assert no_loading == ["w"]  # the finished rerun loaded no model
    with pytest.raises(MMAlignError, match=r"other settings \(samples\)"):
        build_rubrics(data, "w", out, settings=RubricSettings(samples=2), progress=False)


def test_bad_records_are_named_by_file_and_line_or_counted(scripted, no_loading, tmp_path):
    data = pairs(tmp_path, p1={"rejected": "Yes."})  # nothing to contrast
    with pytest.raises(DataError, match=r"pairs.jsonl:2: chosen and rejected have the same text"):
        build_rubrics(data, "w", tmp_path / "a", progress=False)
    scripted[0].extend([RUBRIC, "[[A]]", "[[B]]"] * 2)
    summary = build_rubrics(data, "w", tmp_path / "b", on_bad_record="skip", progress=False,
                            settings=RubricSettings(samples=1))
    assert summary["records"] == 2 and summary["skipped_lines"] == {"same_answers": 1}
    twice = pairs(tmp_path, p2={"id": "p0"})
    with pytest.raises(DataError, match=r"pairs.jsonl:3: id 'p0' appeared on an earlier line"):
        build_rubrics(twice, "w", tmp_path / "c", progress=False)
    no_id = tmp_path / "noid.jsonl"
    no_id.write_text('{"prompt": "Q?", "chosen": "Yes.", "rejected": "No."}\n')
    scripted[0].extend([RUBRIC, "[[A]]", "[[B]]"])
    build_rubrics(no_id, "w", tmp_path / "d", settings=RubricSettings(samples=1), progress=False)
    assert read(tmp_path / "d" / "rubrics.jsonl")[0]["id"] == "line-1"  # as mmalign generate names it


@pytest.mark.parametrize("argv, message", [
    (["--data", "{tmp}/none.jsonl"], "none.jsonl: data file not found"),
    (["--rubric-prompt", "{tmp}/p.txt"], "cannot read the judge prompt"),
    (["--temperature", "0"], "--temperature 0 is greedy: --samples 4"),
    (["--judge-samples", "2"], "--judge-samples above 1 needs --judge-temperature"),
])
def test_user_mistakes_exit_1_with_a_message(tmp_path, capsys, argv, message):
    argv = [a.format(tmp=tmp_path) for a in argv]
    base = ["rubrics", "build", "--model", "nowhere", "--out", str(tmp_path / "o")]
    if "--data" not in argv:
        base += ["--data", str(pairs(tmp_path))]
    assert main(base + argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_help_describes_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["rubrics", "build", "--help"])
    text = capsys.readouterr().out
    for option in ("--model", "--data", "--root", "--out", "--samples", "--seed", "--judge-model", "--judge-orders"):
        assert option in text


@pytest.mark.parametrize("fault", ["rubric-line:2", "torn-line:3"])
def test_killed_then_rerun_writes_the_same_files(fault, by_rule, no_loading, tmp_path):
    data = pairs(tmp_path, n=6)
    argv = ["rubrics", "build", "--model", "w", "--data", str(data), "--samples", "3", "--seed", "1"]
    assert main([*argv, "--out", str(tmp_path / "whole")]) == 0
    reasons = json.loads((tmp_path / "whole" / "rubrics_summary.json").read_text())["reasons"]
    assert sum(v > 0 for v in reasons.values()) >= 2  # the fake gives a mix, so lines differ in kind
    out = tmp_path / "killed"
    killed = run_child([*argv, "--out", str(out)], fault=fault)
    assert killed.killed, killed.stderr[-3000:]
    assert not (out / "rubrics.jsonl").exists() and 1 <= count_lines(out / "parts" / "rubrics-0.jsonl") < 6
    assert main([*argv, "--out", str(out)]) == 0
    assert_same_tree(tmp_path / "whole", out)
