import numpy as np
import pytest
from augment_helpers import snapshot, solid
from PIL import Image

from mmalign.augment import (
    NOISE_STD,
    Box,
    add_noise,
    corrupt,
    grid_collage,
    paper_block,
    pic_in_pic,
    sequence,
)


def test_add_noise_whole_and_box():
    im = solid(20, 10, (100, 100, 100))
    before = snapshot([im])
    whole = np.asarray(add_noise(im, seed=0, std=20)).astype(int)
    assert snapshot([im]) == before
    assert abs(whole.mean() - 100) < 3 and 15 < whole.std() < 25
    boxed = np.asarray(add_noise(im, seed=0, std=20, box=Box(5, 2, 10, 6))).astype(int)
    inside = np.zeros((10, 20), bool)
    inside[2:6, 5:10] = True
    assert (boxed[~inside] == 100).all() and (boxed[inside] != 100).any()
    assert np.array_equal(np.asarray(add_noise(im, seed=0, std=20, box=(5, 2, 10, 6))), boxed)
    # a box past the edge is clipped; std 0 is the identity
    assert add_noise(im, seed=0, std=20, box=(15, 5, 99, 99)).size == (20, 10)
    assert add_noise(im, seed=0, std=0).tobytes() == im.tobytes()


def test_add_noise_clip_vs_wrap_and_modes():
    im = solid(16, 16, (250, 250, 250))
    clipped = np.asarray(add_noise(im, seed=1, std=50))
    wrapped = np.asarray(add_noise(im, seed=1, std=50, overflow="wrap"))
    assert clipped.max() == 255 and (clipped > 150).mean() > 0.9
    assert (wrapped < 100).mean() > 0.2  # overflow past 255 wraps to dark values
    grey = Image.new("L", (8, 8), 128)
    assert add_noise(grey, seed=0, std=10).mode == "L"
    assert add_noise(Image.new("RGBA", (8, 8)), seed=0, std=10).mode == "RGB"
    with pytest.raises(ValueError):
        add_noise(im, seed=0, std=-1)
    with pytest.raises(ValueError):
        add_noise(im, seed=0, std=1, overflow="saturate")


def test_add_noise_seeded():
    im = solid(12, 12, (100, 50, 20))
    assert add_noise(im, seed=3, std=30).tobytes() == add_noise(im, seed=3, std=30).tobytes()
    assert add_noise(im, seed=3, std=30).tobytes() != add_noise(im, seed=4, std=30).tobytes()


def test_paper_defaults():
    assert NOISE_STD == {"sequence": None, "grid_collage": 225.0, "pic_in_pic": 49.0}


def test_corrupt_collage_target_cell_only(imgs):
    aug = grid_collage(imgs["target"], imgs["distractors"][:3], "Q?", seed=0, target_index=1, cell=32, margin=4)
    noisy = corrupt(aug, seed=0)
    clean, dirty = np.asarray(aug.images[0]).astype(int), np.asarray(noisy.images[0]).astype(int)
    b = aug.region.box
    changed = (clean != dirty).any(axis=2)
    assert changed[b.y0 : b.y1, b.x0 : b.x1].mean() > 0.9
    changed[b.y0 : b.y1, b.x0 : b.x1] = False
    assert not changed.any()
    assert (noisy.prompt, noisy.region, noisy.target_index) == (aug.prompt, aug.region, aug.target_index)
    block = corrupt(aug, seed=0, collage_region="block")
    pb = paper_block(aug.images[0].size, (2, 2), 0, 1)
    assert pb.as_tuple() == (34, 0, 68, 36)  # canvas 68x72 -> blocks of 36 rows x 34 cols
    diff = (np.asarray(block.images[0]) != aug.images[0]).any(axis=2)
    assert diff[0:36, 34:68].mean() > 0.9 and not diff[36:].any() and not diff[:, :34].any()
    with pytest.raises(ValueError):
        corrupt(aug, seed=0, collage_region="row")


def test_corrupt_pip_whole_and_sequence_clean(imgs):
    pip = pic_in_pic(imgs["target"], solid(32, 32, (120, 120, 120)), "Q?", seed=0)
    noisy = np.asarray(corrupt(pip, seed=0).images[0]) != np.asarray(pip.images[0])
    assert noisy.any(axis=2).mean() > 0.9
    seq = sequence(imgs["target"], imgs["distractors"][:2], "Q?", seed=0, target_index=2)
    assert snapshot(corrupt(seq, seed=0).images) == snapshot(seq.images)
    hit = corrupt(seq, seed=0, std=30)
    assert snapshot(hit.images[:2]) == snapshot(seq.images[:2])
    assert hit.images[2].tobytes() != seq.images[2].tobytes()
