"""Tiny synthetic videos shared by the video tests (written once per session)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def video_root(tmp_path_factory):
    """A folder with two 16-frame 64x64 clips (a red circle moving left, a blue square moving down) and
    broken files: garbage bytes, and a clip whose second half is gone (index first, so it opens)."""
    import numpy as np

    from mmalign.data.synth.video import VideoScene, encode_mp4, render_video, write_video

    root = tmp_path_factory.mktemp("videos")
    write_video(root / "left.mp4", VideoScene("circle", "red", "left"))
    write_video(root / "down.mp4", VideoScene("square", "blue", "down"))
    (root / "garbage.mp4").write_bytes(b"not a video at all" * 64)
    # noisy frames make the frame data (not the index) most of the file
    noisy = np.random.default_rng(0).integers(0, 256, (16, 64, 64, 3), dtype=np.uint8)
    noisy[:] = np.maximum(noisy, render_video(VideoScene("cross", "green", "right")))
    full = encode_mp4(root / "noisy.mp4", noisy).read_bytes()
    (root / "cut.mp4").write_bytes(full[: len(full) // 2])
    return root
