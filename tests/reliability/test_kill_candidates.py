"""`mmalign generate`, `mmalign score` and `mmalign eval` killed after K written lines (or half-way through
one) and run again end with the files of an uninterrupted run, byte for byte."""

from __future__ import annotations

import json

import pytest
from kill_helpers import assert_same_tree, count_lines, run_child

from mmalign.cli.main import main


@pytest.fixture(scope="module")
def prompts(synth_pairs, tmp_path_factory):
    data, root = synth_pairs
    path = tmp_path_factory.mktemp("prompts") / "five.jsonl"
    path.write_text("".join(data.read_text().splitlines(keepends=True)[:5]))
    return path, root


@pytest.mark.parametrize("fault, extra", [
    ("generate-line:2", ["--n", "2", "--seed", "7"]),  # sampled: one answer per seed
    ("torn-line:3", ["--n", "1", "--temperature", "0", "--batch-size", "2"]),  # greedy: a chunk answered again
])
def test_generate_killed_then_rerun_writes_the_same_files(fault, extra, prompts, tiny_llava_path, tmp_path,
                                                          batch_marked):
    data, root = prompts
    argv = ["generate", "--model", str(tiny_llava_path), "--data", str(data), "--root", str(root),
            "--max-new-tokens", "4", *extra]
    assert main([*argv, "--out", str(tmp_path / "whole")]) == 0
    out = tmp_path / "killed"
    killed = run_child([*argv, "--out", str(out)], fault=fault)
    assert killed.killed, killed.stderr[-3000:]
    assert not (out / "candidates.jsonl").exists() and 1 <= count_lines(out / "parts" / "generate-0.jsonl") < 5
    assert main([*argv, "--out", str(out)]) == 0
    assert_same_tree(tmp_path / "whole", out)


def test_score_killed_then_rerun_writes_the_same_files(tmp_path):
    cands = tmp_path / "c.jsonl"
    cands.write_text("".join(json.dumps({"id": f"p{i}", "prompt": "What colour?", "reference": "Red.",
                                         "candidates": [{"text": "Red."}, {"text": "Blue."}]}) + "\n"
                             for i in range(4)))
    argv = ["score", "--judge", "oracle:noise=1.5", "--judge", "oracle:name=exact", "--data", str(cands)]
    assert main([*argv, "--out", str(tmp_path / "whole")]) == 0
    for fault in ("score-line:6", "torn-line:3"):  # in the second judge's part; in the first one's
        out = tmp_path / fault.replace(":", "-")
        killed = run_child([*argv, "--out", str(out)], fault=fault)
        assert killed.killed, killed.stderr[-3000:]
        assert not (out / "scored.jsonl").exists()
        assert main([*argv, "--out", str(out)]) == 0
        assert_same_tree(tmp_path / "whole", out)


@pytest.mark.parametrize("fault", ["eval-line:6", "torn-line:5"])  # mid-chunk (batch 4): the chunk asked again
def test_eval_killed_then_rerun_writes_the_same_files(fault, tiny_llava_path, tmp_path, batch_marked):
    data = tmp_path / "data"
    assert main(["eval", "synth-pope", "--make-data", str(data), "--count", "12", "--seed", "3"]) == 0
    argv = ["eval", "synth-pope", "--data", str(data), "--model", str(tiny_llava_path), "--batch-size", "4",
            "--max-new-tokens", "3"]
    assert main([*argv, "--out", str(tmp_path / "whole")]) == 0
    out = tmp_path / "killed"
    killed = run_child([*argv, "--out", str(out)], fault=fault)
    assert killed.killed, killed.stderr[-3000:]
    assert not (out / "metrics.json").exists() and 4 <= count_lines(out / "predictions.jsonl") <= 6
    assert main([*argv, "--out", str(out)]) == 0
    assert_same_tree(tmp_path / "whole", out)
