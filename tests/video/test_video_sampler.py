"""The frame-index sampler, checked against index sets worked out by hand."""

from __future__ import annotations

import pytest

from mmalign.data.video import sample_indices


def test_uniform_includes_both_ends_and_floors():
    # linspace(0, 15, 8) = 0, 2.14, 4.29, 6.43, 8.57, 10.71, 12.86, 15 -> floor
    assert sample_indices(16, 8, "uniform") == [0, 2, 4, 6, 8, 10, 12, 15]
    assert sample_indices(16, 4) == [0, 5, 10, 15]
    assert sample_indices(10, 1) == [0]
    assert sample_indices(16, 16) == list(range(16))


def test_uniform_repeats_when_asking_for_more_than_there_are():
    # linspace(0, 3, 8) = 0, .43, .86, 1.29, 1.71, 2.14, 2.57, 3
    assert sample_indices(4, 8) == [0, 0, 0, 1, 1, 2, 2, 3]


def test_random_offset_one_per_segment_and_seeded():
    a = sample_indices(16, 4, "random_offset", seed=7)
    assert a == sample_indices(16, 4, "random_offset", seed=7)
    for k, i in enumerate(a):  # segments [0,4) [4,8) [8,12) [12,16)
        assert 4 * k <= i < 4 * (k + 1)
    seen = {tuple(sample_indices(16, 4, "random_offset", seed=s)) for s in range(20)}
    assert len(seen) > 1
    # more samples than frames: every index stays in range
    assert all(0 <= i < 3 for i in sample_indices(3, 8, "random_offset", seed=1))
    with pytest.raises(ValueError, match="seed"):
        sample_indices(16, 4, "random_offset")


def test_fps_steps_through_time():
    assert sample_indices(16, None, "fps", fps=2, video_fps=8) == [0, 4, 8, 12]
    assert sample_indices(10, None, "fps", fps=3, video_fps=8) == [0, 2, 5, 8]  # 8/3 = 2.67 frames apart
    assert sample_indices(16, None, "fps", fps=30, video_fps=8) == list(range(16))  # no repeats
    # capped: [0, 2, 4, ..., 14] thinned uniformly to 3 -> positions 0, 3, 7
    assert sample_indices(16, 3, "fps", fps=4, video_fps=8) == [0, 6, 14]
    with pytest.raises(ValueError, match="video_fps"):
        sample_indices(16, 4, "fps", fps=2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown sampling strategy"):
        sample_indices(16, 4, "middle")
    with pytest.raises(ValueError, match="num_frames"):
        sample_indices(0, 4)
    with pytest.raises(ValueError, match="num_samples"):
        sample_indices(16, 0)
