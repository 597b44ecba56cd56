"""Decoding: decord and PyAV agree, the fallback works, broken files are bad media."""

from __future__ import annotations

import numpy as np
import pytest

from mmalign.data import video_backends
from mmalign.data.schema import RecordProblem
from mmalign.data.synth.video import VideoScene, render_video
from mmalign.data.video import VideoInfo, available_backends, load_clip, read_frames, video_info

needs_decord = pytest.mark.skipif("decord" not in available_backends(), reason="decord not installed here")


def _centre_x(frames: np.ndarray) -> np.ndarray:
    """Column centre of the bright pixels in each frame."""
    mask = frames.max(axis=-1) > 100
    cols = np.arange(frames.shape[2])
    return (mask.sum(axis=1) * cols).sum(axis=1) / mask.sum(axis=(1, 2))


@needs_decord
def test_decord_and_pyav_give_the_same_frames(video_root):
    for name in ("left.mp4", "down.mp4"):
        for idx in ([0, 5, 10, 15], [15, 3, 3, 0], list(range(16))):
            a, used_a = read_frames(video_root / name, idx, "decord")
            b, used_b = read_frames(video_root / name, idx, "pyav")
            assert (used_a, used_b) == ("decord", "pyav")
            assert a.shape == b.shape == (len(idx), 64, 64, 3) and a.dtype == b.dtype == np.uint8
            assert np.abs(a.astype(int) - b.astype(int)).max() <= 2  # same FFmpeg decode; 0 measured here
    assert video_info(video_root / "left.mp4", "decord") == VideoInfo(16, 8.0, 64, 64, "decord")


def test_frames_follow_indices_and_show_the_motion(video_root):
    frames, used = read_frames(video_root / "left.mp4", [0, 15, 15, 7])
    assert used in available_backends()
    truth = render_video(VideoScene("circle", "red", "left"))[[0, 15, 15, 7]]
    assert np.abs(frames.astype(float) - truth).mean() < 4  # within codec loss
    np.testing.assert_array_equal(frames[1], frames[2])
    x = _centre_x(frames)
    assert x[0] > x[3] > x[1]  # moving left: the shape's column shrinks with time


def test_info_and_load_clip(video_root):
    info = video_info(video_root / "down.mp4", "pyav")
    assert (info.num_frames, info.fps, info.width, info.height, info.duration) == (16, 8.0, 64, 64, 2.0)
    frames, idx, info2 = load_clip(video_root / "down.mp4", 4, backend="pyav")
    assert idx == [0, 5, 10, 15] and frames.shape == (4, 64, 64, 3) and info2 == info
    _, idx, _ = load_clip(video_root / "down.mp4", None, "fps", fps=2, backend="pyav")
    assert idx == [0, 4, 8, 12]


def test_auto_uses_pyav_without_decord(video_root, monkeypatch):
    def no_decord():
        raise ImportError("No module named 'decord'")

    monkeypatch.setattr(video_backends, "_import_decord", no_decord)
    frames, used = read_frames(video_root / "left.mp4", [1, 2])
    assert used == "pyav" and frames.shape == (2, 64, 64, 3)
    assert video_info(video_root / "left.mp4").backend == "pyav"


def test_auto_falls_back_when_decord_fails_on_a_file(video_root, monkeypatch):
    def broken(self, path, threads=1):
        raise video_backends.BackendFailure(f"decord could not open {path.name}: simulated")

    monkeypatch.setattr(video_backends.DecordHandle, "__init__", broken)
    frames, used = read_frames(video_root / "down.mp4", [3])
    assert used == "pyav" and frames.shape == (1, 64, 64, 3)


@needs_decord
def test_auto_falls_back_where_decord_fails_on_a_real_file(tmp_path):
    from mmalign.data.synth.video import write_video

    # decord 0.6.0 fails to copy out frames 16, 24 or 48 px wide; auto mode then reads with PyAV
    path = write_video(tmp_path / "small.mp4", VideoScene("cross", "green", "up"), frames=4, px=16)
    frames, used = read_frames(path, [0, 3])
    assert used == "pyav" and frames.shape == (2, 16, 16, 3)


@pytest.mark.parametrize("backend", ["auto", "pyav", pytest.param("decord", marks=needs_decord)])
def test_broken_videos_are_bad_media(video_root, backend):
    cases = [
        ("missing.mp4", [0], "not found"),
        ("garbage.mp4", [0], "cannot decode"),
        ("cut.mp4", list(range(16)), "cannot decode"),  # truncated: the last frames are gone
        ("left.mp4", [16], "past the end"),
    ]
    for name, idx, words in cases:
        with pytest.raises(RecordProblem) as err:
            read_frames(video_root / name, idx, backend)
        assert err.value.reason == "bad_media" and words in err.value.message
    with pytest.raises(RecordProblem, match="cannot decode"):
        video_info(video_root / "garbage.mp4", backend)


def test_bad_requests_are_caller_errors(video_root):
    with pytest.raises(ValueError, match="empty"):
        read_frames(video_root / "left.mp4", [])
    with pytest.raises(ValueError, match=">= 0"):
        read_frames(video_root / "left.mp4", [-1])
    with pytest.raises(ValueError, match="unknown video backend"):
        read_frames(video_root / "left.mp4", [0], "opencv")


def test_no_decoder_is_kept_between_calls(video_root):
    read_frames(video_root / "left.mp4", [0])
    held = [v for v in vars(video_backends).values()
            if isinstance(v, (video_backends.DecordHandle, video_backends.PyAVHandle))]
    assert held == []
