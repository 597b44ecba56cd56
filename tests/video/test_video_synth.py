"""Synthetic moving-shape videos and the video QA dataset."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mmalign.data.schema import check_media, parse_record
from mmalign.data.synth.video import DIRECTIONS, VideoScene, render_video, write_video_dataset
from mmalign.data.video import read_frames, video_info


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_render_moves_the_shape_the_right_way(direction):
    clip = render_video(VideoScene("square", "yellow", direction), frames=8, px=32)
    assert clip.shape == (8, 32, 32, 3) and clip.dtype == np.uint8
    ys, xs = [], []
    for f in clip:
        r, c = np.nonzero(f.max(axis=-1) > 100)
        ys.append(r.mean())
        xs.append(c.mean())
    dx, dy = xs[-1] - xs[0], ys[-1] - ys[0]
    expected = {"left": (dx < -5 and abs(dy) < 1), "right": (dx > 5 and abs(dy) < 1),
                "up": (dy < -5 and abs(dx) < 1), "down": (dy > 5 and abs(dx) < 1)}
    assert expected[direction]


def test_scene_rejects_unknown_values():
    with pytest.raises(ValueError, match="direction"):
        VideoScene("circle", "red", "sideways")


def test_dataset_records_are_valid_and_reproducible(tmp_path):
    path = write_video_dataset(tmp_path / "a", seed=1, count=3, frames=8, px=32,
                               kinds=("direction", "colour", "shape"))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["meta"]["kind"] for r in rows] == ["direction", "colour", "shape"]
    opposite = {"Left.": "Right.", "Right.": "Left.", "Up.": "Down.", "Down.": "Up."}
    first = rows[0]
    assert first["prompt"].startswith("<video>\nWhich way does the ")
    assert first["chosen"] == first["meta"]["direction"].capitalize() + "." and \
        first["rejected"] == opposite[first["chosen"]]
    assert rows[1]["chosen"] == rows[1]["meta"]["colour"].capitalize() + "." and rows[1]["rejected"] != rows[1]["chosen"]
    for i, row in enumerate(rows):
        rec = parse_record(row, i)
        check_media(rec, tmp_path / "a")
        assert rec.videos == [f"vid/synth-1-{i}.mp4"]
        info = video_info(tmp_path / "a" / rec.videos[0], "pyav")
        assert (info.num_frames, info.width, info.height, info.fps) == (8, 32, 32, 8.0)
    again = write_video_dataset(tmp_path / "b", seed=1, count=3, frames=8, px=32,
                                kinds=("direction", "colour", "shape"))
    assert again.read_text() == path.read_text()
    a, _ = read_frames(tmp_path / "a" / "vid/synth-1-0.mp4", range(8), "pyav")
    b, _ = read_frames(tmp_path / "b" / "vid/synth-1-0.mp4", range(8), "pyav")
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 2  # x264 at 32 px is not always bit-exact


def test_write_video_is_reproducible_at_64_px(tmp_path):
    from mmalign.data.synth.video import write_video

    scene = VideoScene("triangle", "orange", "right")
    one = write_video(tmp_path / "1.mp4", scene, frames=4).read_bytes()
    assert write_video(tmp_path / "2.mp4", scene, frames=4).read_bytes() == one
    with pytest.raises(ValueError, match="question kind"):
        write_video_dataset(tmp_path / "c", seed=1, count=1, kinds=("count",))
