"""A disk that fills during a JSONL write of `build-data` or `generate` (RLIMIT_FSIZE: writes past the limit
fail with EFBIG, as on a full disk) is one clear message, exit 1, no traceback; the lines written before
are kept whole, and the same command run again with space freed ends with an uninterrupted run's files."""

from __future__ import annotations

import json

from kill_helpers import assert_same_clips, assert_same_tree, count_lines, run_child

from mmalign.cli.main import main


def assert_one_clear_message(outcome, path) -> None:
    assert outcome.code == 1, outcome.stderr[-3000:]
    errors = [line for line in outcome.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "disk full" in errors[0] and str(path) in errors[0], outcome.stderr[-3000:]
    assert "rerun the same command" in errors[0] and "Traceback" not in outcome.stderr


def assert_whole_lines(path, fewer_than: int) -> None:
    data = path.read_bytes()
    assert data.endswith(b"\n"), "a torn line was left behind"
    lines = data.decode().splitlines()
    assert 1 <= len(lines) < fewer_than and all(json.loads(line) for line in lines)


def test_build_data_video_on_a_full_disk(tmp_path):
    from mmalign.data.synth.video import write_video_dataset

    src = write_video_dataset(tmp_path / "src", seed=5, count=8, frames=4, px=32)
    argv = ["build-data", "video", "--data", str(src), "--frames", "2", "--fps", "4"]
    assert main([*argv, "--out", str(tmp_path / "whole")]) == 0
    jsonl = (tmp_path / "whole" / "video_pairs.jsonl").stat().st_size
    clips = max(p.stat().st_size for p in (tmp_path / "whole" / "vid").iterdir())
    limit = (clips + jsonl) // 2  # every clip fits; the JSONL file does not
    assert clips < limit < jsonl
    out = tmp_path / "full"
    full = run_child([*argv, "--out", str(out)], file_limit=limit)
    assert_one_clear_message(full, out / "video_pairs.jsonl")
    assert_whole_lines(out / "video_pairs.jsonl", fewer_than=8)
    assert main([*argv, "--out", str(out)]) == 0  # space freed: it goes on from the lines kept
    assert_same_tree(tmp_path / "whole", out, ignore=("vid/",))
    assert_same_clips(tmp_path / "whole", out)


def test_generate_on_a_full_disk(tmp_path, synth_pairs, tiny_llava_path):
    data, root = synth_pairs
    argv = ["generate", "--model", str(tiny_llava_path), "--data", str(data), "--root", str(root), "--n", "2",
            "--max-new-tokens", "6", "--seed", "3"]
    assert main([*argv, "--out", str(tmp_path / "whole")]) == 0
    part = tmp_path / "whole" / "parts" / "generate-0.jsonl"
    out = tmp_path / "full"
    full = run_child([*argv, "--out", str(out)], file_limit=part.stat().st_size // 2)
    assert_one_clear_message(full, out / "parts" / "generate-0.jsonl")
    assert_whole_lines(out / "parts" / "generate-0.jsonl", fewer_than=count_lines(part))
    assert not (out / "candidates.jsonl").exists()
    assert main([*argv, "--out", str(out)]) == 0
    assert_same_tree(tmp_path / "whole", out)
