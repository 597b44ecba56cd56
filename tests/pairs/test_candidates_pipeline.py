"""generate -> score -> pairs -> train on the tiny model (COIG-P's recipe, docs/candidates.md), resuming after
a kill with byte-identical files, and bad input giving file:line errors or counted skips."""

import json
import shutil

import pytest

import mmalign.models
from mmalign.cli.main import main
from mmalign.judge.oracle import OracleJudge


@pytest.fixture
def prompts(tmp_path, synth_pairs):
    """Five synthetic preference records (prompts with a known answer) under the synthetic root."""
    data, root = synth_pairs
    path = root / "five.jsonl"
    path.write_text("".join(data.read_text().splitlines(keepends=True)[:5]))
    return path, root


def generate_argv(data, root, model, out, *extra):
    return ["generate", "--model", str(model), "--data", str(data), "--root", str(root), "--out", str(out),
            "--n", "2", "--max-new-tokens", "4", "--seed", "7", *extra]


def test_generate_killed_midway_then_rerun_writes_the_same_bytes(tmp_path, prompts, tiny_llava_path, monkeypatch):
    data, root = prompts
    assert main(generate_argv(data, root, tiny_llava_path, tmp_path / "whole")) == 0
    whole = (tmp_path / "whole" / "candidates.jsonl").read_bytes()
    lines = [json.loads(x) for x in whole.decode().splitlines()]
    assert len(lines) == 5 and all(len(r["candidates"]) == 2 for r in lines)
    assert lines[0]["reference"] and lines[0]["candidates"][1]["sample"] == 1

    real, calls = mmalign.models.generate, {"n": 0}

    def dies_after_five(*args, **kw):
        calls["n"] += 1
        if calls["n"] > 5:
            raise KeyboardInterrupt  # killed after two and a half prompts
        return real(*args, **kw)

    monkeypatch.setattr(mmalign.models, "generate", dies_after_five)
    out = tmp_path / "resumed"
    assert main(generate_argv(data, root, tiny_llava_path, out)) == 130
    part = out / "parts" / "generate-0.jsonl"
    assert len(part.read_text().splitlines()) == 2 and not (out / "candidates.jsonl").exists()
    with open(part, "a") as fh:
        fh.write('{"id": "synth-3-2", "candidates": [{"te')  # torn by the kill
    monkeypatch.setattr(mmalign.models, "generate", real)
    assert main(generate_argv(data, root, tiny_llava_path, out)) == 0
    assert (out / "candidates.jsonl").read_bytes() == whole
    assert main(generate_argv(data, root, tiny_llava_path, out, "--top-p", "0.5")) == 1  # other settings: refused


def test_greedy_generation_resumes_in_the_same_chunks(tmp_path, prompts, tiny_llava_path):
    data, root = prompts
    argv = generate_argv(data, root, tiny_llava_path, tmp_path / "g", "--temperature", "0", "--batch-size", "2")
    argv[argv.index("--n") + 1] = "1"
    assert main(argv) == 0
    whole = (tmp_path / "g" / "candidates.jsonl").read_bytes()
    part = tmp_path / "g" / "parts" / "generate-0.jsonl"
    part.write_text(part.read_text().splitlines(keepends=True)[0] + '{"id": "torn')  # mid-chunk
    (tmp_path / "g" / "candidates.jsonl").unlink()
    assert main(argv) == 0
    assert (tmp_path / "g" / "candidates.jsonl").read_bytes() == whole


def test_score_killed_midway_then_rerun_writes_the_same_bytes(tmp_path, monkeypatch):
    cands = tmp_path / "c.jsonl"
    cands.write_text("".join(json.dumps({"id": f"p{i}", "prompt": "What colour?", "reference": "Red.",
                                         "candidates": [{"text": "Red."}, {"text": "Blue."}, {"text": "Hmm."}]}) + "\n"
                             for i in range(6)))
    argv = ["score", "--judge", "oracle:noise=1.5", "--judge", "oracle:name=exact", "--data", str(cands)]
    assert main([*argv, "--out", str(tmp_path / "whole")]) == 0
    whole = (tmp_path / "whole" / "scored.jsonl").read_bytes()
    first = json.loads(whole.decode().splitlines()[0])
    assert [c["scores"]["exact"] for c in first["candidates"]] == [10.0, 0.0, 5.0]
    assert first["candidates"][0]["scores"]["oracle"] != 10.0  # noisy

    real, calls = OracleJudge.score, {"n": 0}

    def dies(self, records):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt
        return real(self, records)

    monkeypatch.setattr(OracleJudge, "score", dies)
    out = tmp_path / "resumed"
    assert main([*argv, "--out", str(out)]) == 130
    with open(out / "parts" / "score-0.jsonl", "a") as fh:
        fh.write('{"id": "p3", "judge": "ora')
    monkeypatch.setattr(OracleJudge, "score", real)
    assert main([*argv, "--out", str(out)]) == 0
    assert (out / "scored.jsonl").read_bytes() == whole


def test_bad_candidate_lines_stop_with_file_and_line_or_are_counted(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "a", "prompt": "q", "candidates": [{"text": "x"}]}) + "\n"
                   + json.dumps({"id": "b", "prompt": "q"}) + "\n{not json\n"
                   + json.dumps({"id": "c", "prompt": "q", "candidates": [{"text": "y"}]}) + "\n")
    argv = ["score", "--judge", "oracle", "--data", str(bad), "--out", str(tmp_path / "o")]
    assert main(argv) == 1
    assert f"{bad}:2: the line has no 'candidates' list" in capsys.readouterr().err
    assert main([*argv, "--on-bad-record", "skip"]) == 0
    out = capsys.readouterr().out
    assert "skipped 2 bad line(s) (malformed_json: 1, no_candidates: 1)" in out
    assert "oracle: scored 0 of 2 candidates, 2 without a score" in out  # no reference to compare with
    summary = json.loads((tmp_path / "o" / "score_summary.json").read_text())
    assert summary["judges"]["oracle"]["no_score"] == 2 and summary["records"] == 2
    assert main(["pairs", "--data", str(bad), "--out", str(tmp_path / "p"), "--rule", "best-worst"]) == 1
    assert f"{bad}:2:" in capsys.readouterr().err


def test_coig_p_recipe_runs_end_to_end_on_the_tiny_model(tmp_path, prompts, tiny_llava_path):
    data, root = prompts
    cands, scored, pairs, run = (tmp_path / x for x in ("cands", "scored", "pairs", "run"))
    argv = generate_argv(data, root, tiny_llava_path, cands)
    argv[argv.index("--n") + 1] = "4"
    assert main(argv) == 0
    assert main(["score", "--judge", "oracle:noise=3,seed=1", "--data", str(cands / "candidates.jsonl"),
                 "--root", str(root), "--out", str(scored)]) == 0
    assert main(["pairs", "--data", str(scored / "scored.jsonl"), "--out", str(pairs), "--rule", "gap:2"]) == 0
    made = [json.loads(x) for x in (pairs / "pairs.jsonl").read_text().splitlines()]
    assert made and all(p["scores"]["chosen"] - p["scores"]["rejected"] > 2 for p in made)
    assert main(["train", "configs/tiny/dpo_llava.yaml", f"model={tiny_llava_path}", f"data={pairs / 'pairs.jsonl'}",
                 f"root={root}", "eval_data=", "max_steps=2", "per_device_batch_size=2", f"output_dir={run}",
                 "progress=false"]) == 0
    assert (run / "final").is_dir()
    shutil.rmtree(run)
