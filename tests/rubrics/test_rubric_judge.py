"""The rubric judge: scores on scripted replies, records without a rubric, and its spec."""

import json

import pytest
from rubric_fakes import asker

from mmalign.errors import DataError, MMAlignError
from mmalign.judge import JUDGE_KINDS, build_judge, parse_judge_spec
from mmalign.judge.generative import load_template
from mmalign.judge.rubric import DEFAULT_PROMPT, RubricJudge

RUBRIC = {"hard_rules": ["Say yes or no."], "principles": ["Match the image."]}
RECORD = {"id": "p1", "prompt": "<image>\nIs there a red circle?", "images": ["img/1.png"],
          "candidates": [{"text": "Yes."}, {"text": "Maybe."}, {"text": "No."}]}


def judge(missing="error", **kw):
    template = load_template(None, DEFAULT_PROMPT, ("prompt", "rubric", "response"))
    return RubricJudge("rub", asker(**kw), template, {"p1": RUBRIC}, source="r.jsonl", missing=missing)


def test_scores_are_the_parsed_replies_averaged_on_a_0_to_10_scale(scripted):
    script, calls = scripted
    # three candidates, two samples each: (8 + 6) / 2; 11 is off the scale, so 3 alone; no score at all
    script += ["H1 met. Score: 8", "Score: 6", "Score: 11", "Score: 3", "no score", "Score: ?"]
    j = judge(samples=2, temperature=0.5)
    assert j.score([RECORD]) == [[7.0, 3.0, None]]
    assert j.replies == [[["H1 met. Score: 8", "Score: 6"], ["Score: 11", "Score: 3"], ["no score", "Score: ?"]]]
    (call,) = calls
    asked = call["questions"][0]
    assert "Is there a red circle?" in asked and "H1. Say yes or no." in asked and "P1. Match the image." in asked
    assert "[Response]\nYes.\n" in asked and "[Response]\nMaybe.\n" in call["questions"][2]


def test_a_record_without_a_rubric_is_an_error_naming_it_or_a_counted_skip(scripted):
    _, calls = scripted
    other = {**RECORD, "id": "p2"}
    with pytest.raises(MMAlignError, match="no accepted rubric for record 'p2' in r.jsonl"):
        judge().score([other])
    assert judge(missing="skip").score([other]) == [[None, None, None]] and not calls  # no model asked


def test_the_spec_checks_options_before_loading_a_model(tmp_path):
    assert "rubric" in JUDGE_KINDS
    spec = parse_judge_spec("rubric:model=runs/sft/,rubrics=r.jsonl")
    assert spec.name == "rubric-sft" and spec.options["missing"] == "error" and spec.options["max_score"] == 10.0
    with pytest.raises(MMAlignError, match="needs rubrics="):
        parse_judge_spec("rubric:model=m")
    with pytest.raises(MMAlignError, match="missing='maybe'"):
        build_judge("rubric:model=nowhere,rubrics=r.jsonl,missing=maybe")
    with pytest.raises(DataError, match="rubrics file not found"):  # before the (absent) model is loaded
        build_judge(f"rubric:model=nowhere,rubrics={tmp_path / 'r.jsonl'}")


def test_mmalign_score_with_the_rubric_judge_on_a_tiny_llava(tiny_llava_path, synth_pairs, tmp_path):
    from mmalign.cli.main import main

    data, root = synth_pairs
    rows = [json.loads(x) for x in data.read_text().splitlines()[:3]]
    cands = tmp_path / "c.jsonl"
    cands.write_text("".join(json.dumps({"id": r["id"], "prompt": r["prompt"], "images": r["images"],
                                         "candidates": [{"text": "Yes."}, {"text": "No."}]}) + "\n" for r in rows))
    rubrics = tmp_path / "r.jsonl"  # the first two records have a rubric; the third is skipped
    rubrics.write_text("".join(json.dumps({"id": r["id"], "rubric": RUBRIC}) + "\n" for r in rows[:2]))
    spec = f"rubric:model={tiny_llava_path},rubrics={rubrics},max_new_tokens=3,name=rub"
    argv = ["score", "--data", str(cands), "--root", str(root), "--device", "cpu"]
    assert main([*argv, "--judge", spec, "--out", str(tmp_path / "err")]) == 1  # missing=error: a clean exit 1
    assert main([*argv, "--judge", spec + ",missing=skip", "--out", str(tmp_path / "s")]) == 0
    summary = json.loads((tmp_path / "s" / "score_summary.json").read_text())
    counts = summary["judges"]["rub"]
    assert counts["scored"] + counts["no_score"] == 6 and counts["no_score"] >= 2
    part = [json.loads(x) for x in (tmp_path / "s" / "parts" / "score-0.jsonl").read_text().splitlines()]
    assert part[2]["scores"] == [None, None] and all(len(r) == 1 for r in part[0]["replies"])
