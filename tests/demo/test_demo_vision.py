"""Vision pretraining changes only the tower and learns; shrunk scenes keep the object."""

import hashlib

import torch
from safetensors.torch import load_file

from mmalign.demo.vision import pretrain_vision_tower
from mmalign.models import load


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_vision_pretraining_changes_only_the_tower_and_learns(tmp_path, tiny_llava_path):
    before = _digest(tiny_llava_path)
    acc = pretrain_vision_tower(tiny_llava_path, tmp_path / "vision", steps=60, batch=16, lr=2e-3, log_every=0)
    assert _digest(tiny_llava_path) == before  # the input model is not modified in place
    old, new = load_file(tiny_llava_path / "model.safetensors"), load_file(tmp_path / "vision" / "model.safetensors")
    assert old.keys() == new.keys()
    changed = {k for k in old if not torch.equal(old[k], new[k])}
    assert changed and all("vision_tower" in k for k in changed)
    # Colour is a linear read-out of the pixels: 60 steps are plenty (chance is 1/6).
    assert acc["colour"] > 0.5 and 0.0 <= acc["shape"] <= 1.0
    assert load(tmp_path / "vision").adapter.family == "llava"


def test_shrunk_scene_is_the_plain_scene_at_full_scale_and_smaller_below():
    import random

    import numpy as np

    from mmalign.data.synth.scenes import Scene, draw_scene
    from mmalign.demo.vision import CANVASES, shrunk_scene

    def colours(img):
        return [tuple(p) for p in np.asarray(img).reshape(-1, 3)]

    scene = Scene("square", "red", 0.5, 0.5, 0.3)
    assert shrunk_scene(scene, 32, 1.0, random.Random(0)).tobytes() == draw_scene(scene, 32).tobytes()
    red = (220, 40, 40)
    full = colours(draw_scene(scene, 64)).count(red)
    counts = []
    for seed in range(20):
        img = shrunk_scene(scene, 64, 0.3, random.Random(seed))
        assert img.size == (64, 64)
        pixels = colours(img)
        assert set(pixels) <= set(CANVASES) | {red}  # drawn without anti-aliasing: canvas, scene or object
        counts.append(pixels.count(red))
    assert 0 < min(counts) and max(counts) <= full  # the object is always there, never larger than at full scale
    assert min(counts) < full * 0.5  # scales near 0.3 shrink the object's area to about a tenth
