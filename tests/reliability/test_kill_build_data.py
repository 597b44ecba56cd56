"""`mmalign build-data mia` and `build-data video` killed after K output lines (or half-way through one) and
run again end with the files of an uninterrupted run, byte for byte: no line lost, duplicated or torn (video
clips: the same files, decoding to the same frames, as x264 may encode the same frames in other bytes)."""

from __future__ import annotations

import json

import pytest
from kill_helpers import assert_same_clips, assert_same_tree, count_lines, run_child

from mmalign.cli.main import main

MIA = ["--cell", "48", "--margin", "8", "--max-new-tokens", "4", "--batch-size", "3", "--no-progress", "--seed", "2"]


@pytest.fixture(scope="module")
def llava_rows(tmp_path_factory):
    from mmalign.data.synth import write_llava_instructions

    root = tmp_path_factory.mktemp("llava")
    return write_llava_instructions(root, seed=4, count=8), root


def mia_argv(source, model, out):
    path, root = source
    return ["build-data", "mia", "--data", str(path), "--root", str(root), "--model", str(model),
            "--out", str(out), "--min-ppl", "-1", "--selector", "random", *MIA]


# Line 2 is the first pair, killed before its progress line; line 3 that progress line, torn half-way.
@pytest.mark.parametrize("fault", ["build-data-line:2", "torn-line:3"])
def test_build_data_mia_killed_then_rerun_writes_the_same_files(fault, llava_rows, tiny_llava_path, tmp_path,
                                                                 batch_marked):
    assert main(mia_argv(llava_rows, tiny_llava_path, tmp_path / "whole")) == 0
    out = tmp_path / "killed"
    killed = run_child(mia_argv(llava_rows, tiny_llava_path, out), fault=fault)
    assert killed.killed, killed.stderr[-3000:]
    pairs = [json.loads(x)["id"] for x in (out / "pairs.jsonl").read_text().splitlines()]
    progress = (out / "progress.jsonl").read_text().splitlines(keepends=True)
    committed = [json.loads(x)["id"] for x in progress if x.endswith("\n")]
    assert pairs and pairs[-1] not in committed  # the case this test is for: a pair without its progress line
    assert main(mia_argv(llava_rows, tiny_llava_path, out)) == 0
    assert_same_tree(tmp_path / "whole", out)


def test_build_data_video_killed_then_rerun_writes_the_same_files(tmp_path):
    from mmalign.data.synth.video import write_video_dataset

    src = write_video_dataset(tmp_path / "src", seed=5, count=4, frames=4, px=32)
    argv = ["build-data", "video", "--data", str(src), "--frames", "2", "--fps", "4"]
    assert main([*argv, "--out", str(tmp_path / "whole")]) == 0
    assert count_lines(tmp_path / "whole" / "video_pairs.jsonl") == 4
    for fault in ("build-data-line:2", "torn-line:3"):
        out = tmp_path / fault.replace(":", "-")
        killed = run_child([*argv, "--out", str(out)], fault=fault)
        assert killed.killed, killed.stderr[-3000:]
        assert count_lines(out / "video_pairs.jsonl") in (2, 3)
        (out / "vid" / ".synth-video-5-3-0.mp4.k1ll3d_x.tmp").write_bytes(b"a clip killed before its rename")
        assert main([*argv, "--out", str(out)]) == 0  # ... and that temporary file is cleared away
        assert_same_tree(tmp_path / "whole", out, ignore=("vid/",))  # video_pairs.jsonl byte for byte
        assert_same_clips(tmp_path / "whole", out)
        assert [json.loads(x)["id"] for x in (out / "video_pairs.jsonl").read_text().splitlines()] == [
            json.loads(x)["id"] for x in (tmp_path / "whole" / "video_pairs.jsonl").read_text().splitlines()]
