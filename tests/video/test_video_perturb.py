"""Clip perturbations: what each does, determinism under a seed, inputs untouched."""

from __future__ import annotations

import numpy as np
import pytest

from mmalign.augment.video import PERTURBATIONS, SPATIAL, TEMPORAL, perturb

IDX = list(range(8))


def _frames(t: int = 4, h: int = 16, w: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (t, h, w, 3), dtype=np.uint8)


def _args(name: str, x) -> dict:
    return {"other": _frames(6, x.shape[1], x.shape[2], seed=9)} if name == "other_video" else {}


def test_registry_tags_every_perturbation():
    assert set(TEMPORAL) == {"reverse", "shuffle", "segment_shuffle", "frame_drop", "frame_repeat", "freeze",
                             "speed_change"}
    assert set(SPATIAL) == {"random_resized_crop", "flip", "gaussian_noise", "blur", "patch_mask",
                            "colour_jitter", "grayscale", "other_video"}
    assert all(p.kind in ("temporal", "spatial") and p.name == n for n, p in PERTURBATIONS.items())
    assert PERTURBATIONS["segment_shuffle"].defaults == {"segments": 4}


def test_reverse():
    assert perturb("reverse", IDX) == [7, 6, 5, 4, 3, 2, 1, 0]


def test_shuffles_are_permutations_that_change_the_order():
    for seed in range(10):
        out = perturb("shuffle", IDX, seed=seed)
        assert sorted(out) == IDX and out != IDX
        seg = perturb("segment_shuffle", IDX, seed=seed, segments=4)
        pieces = [seg[i:i + 2] for i in range(0, 8, 2)]  # each piece stays whole and in order
        assert sorted(pieces) == [[0, 1], [2, 3], [4, 5], [6, 7]] and seg != IDX
    assert perturb("shuffle", [5, 5]) == [5, 5]  # nothing to change


def test_frame_drop_keeps_length_by_holding_kept_frames():
    out = perturb("frame_drop", IDX, seed=3, rate=0.5)
    kept = sorted(set(out))
    assert len(out) == 8 and len(kept) == 4 and out == sorted(out)
    assert out == [k for k in kept for _ in range(2)]  # each kept frame held twice
    short = perturb("frame_drop", IDX, seed=3, rate=0.5, keep_length=False)
    assert short == kept


def test_frame_repeat_and_freeze():
    out = perturb("frame_repeat", IDX, seed=1, rate=0.25)
    assert len(out) == 8 and out[0] == 0 and len(set(out)) == 6 and out == sorted(out)
    frozen = perturb("freeze", IDX, seed=2, fraction=0.5)
    start = next(i for i in range(7) if frozen[i] == frozen[i + 1])
    assert frozen == IDX[:start] + [start] * 4 + IDX[start + 4:]


def test_speed_change():
    assert perturb("speed_change", IDX, factor=2.0) == [0, 2, 4, 6, 7, 7, 7, 7]
    for seed in range(5):  # half speed: a random window of ~4 frames, each shown about twice
        slow = perturb("speed_change", IDX, seed=seed, factor=0.5)
        steps = np.diff(slow)
        assert len(slow) == 8 and set(steps.tolist()) == {0, 1} and max(slow) - min(slow) in (3, 4)


def test_flip_mirrors_pixels_and_grayscale_is_grey():
    f = _frames()
    np.testing.assert_array_equal(perturb("flip", f)[:, :, 0], f[:, :, -1])
    np.testing.assert_array_equal(perturb("flip", f, axis="vertical")[:, 0], f[:, -1])
    g = perturb("grayscale", f).astype(int)
    assert (g[..., 0] == g[..., 1]).all() and (g[..., 1] == g[..., 2]).all()
    red = np.zeros((1, 2, 2, 3), np.uint8)
    red[..., 0] = 200
    assert perturb("grayscale", red)[0, 0, 0, 0] == round(0.299 * 200)


def test_noise_blur_jitter_change_values_but_not_shape():
    flat = np.full((2, 16, 16, 3), 128, np.uint8)
    noisy = perturb("gaussian_noise", flat, std=10.0)
    assert 7 < noisy.astype(float).std() < 13
    np.testing.assert_array_equal(perturb("blur", flat, sigma=2.0), flat)  # a flat image stays flat
    edge = np.zeros((1, 16, 16, 3), np.uint8)
    edge[:, :, 8:] = 255
    row = perturb("blur", edge, sigma=1.5)[0, 0, :, 0].astype(int)
    assert row[0] == 0 and row[-1] == 255 and 0 < row[7] < row[8] < 255  # a soft step
    jit = perturb("colour_jitter", _frames(), seed=4)
    assert jit.shape == (4, 16, 16, 3) and not np.array_equal(jit, _frames())


def test_patch_mask_paints_whole_cells_the_same_in_every_frame():
    f = np.full((3, 32, 32, 3), 200, np.uint8)
    out = perturb("patch_mask", f, seed=0, patch=8, ratio=0.25, fill=0)
    masked = out[..., 0] == 0
    assert masked.sum(axis=(1, 2)).tolist() == [4 * 64] * 3  # 4 of 16 cells, 64 pixels each
    assert (masked == masked[0]).all()
    per = perturb("patch_mask", f, seed=0, patch=8, ratio=0.25, per_frame=True)[..., 0] == 0
    assert not (per == per[0]).all()


def test_random_resized_crop_zooms_into_one_box():
    f = np.zeros((2, 32, 32, 3), np.uint8)
    f[:, :16] = 255  # top half white
    out = perturb("random_resized_crop", f, seed=5, scale=(0.05, 0.1))
    assert out.shape == f.shape
    np.testing.assert_array_equal(out[0], out[1])  # the same box in every frame
    assert not np.array_equal(out, f)


def test_other_video_takes_frames_from_the_other_clip():
    f, other = _frames(4), _frames(8, seed=1)
    np.testing.assert_array_equal(perturb("other_video", f, other=other), other[[0, 2, 4, 7]])
    part = perturb("other_video", f, seed=2, other=other, fraction=0.5)
    replaced = [not np.array_equal(part[i], f[i]) for i in range(4)]
    assert sum(replaced) == 2
    with pytest.raises(ValueError, match="needs other"):
        perturb("other_video", f)


@pytest.mark.parametrize("name", list(PERTURBATIONS))
def test_deterministic_and_inputs_untouched(name):
    if PERTURBATIONS[name].kind == "temporal":
        idx = list(IDX)
        a = perturb(name, idx, seed=11)
        assert a == perturb(name, idx, seed=11) and idx == IDX
        assert len(a) == 8 and set(a) <= set(IDX)
        return
    f = _frames(4, 32, 32)
    before = f.copy()
    extra = _args(name, f)
    a, b = perturb(name, f, seed=11, **extra), perturb(name, f, seed=11, **extra)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(f, before)
    assert a is not f and a.shape == f.shape and a.dtype == np.uint8 and not np.shares_memory(a, f)


def test_errors_name_the_valid_choices():
    with pytest.raises(ValueError, match="valid: segments"):
        perturb("segment_shuffle", IDX, pieces=3)
    with pytest.raises(ValueError, match="unknown perturbation"):
        perturb("rotate", IDX)
    with pytest.raises(ValueError, match="uint8"):
        perturb("flip", np.zeros((4, 8, 8, 3), np.float32))
