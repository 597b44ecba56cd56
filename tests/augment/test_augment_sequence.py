import pytest
from augment_helpers import snapshot

from mmalign.augment import corrupt, sequence


def test_order_and_region(imgs):
    d = imgs["distractors"][:3]
    aug = sequence(imgs["target"], d, "What is it?", seed=0, target_index=1)
    assert len(aug.images) == 4 and aug.target_index == 1
    assert snapshot([aug.images[0], aug.images[2], aug.images[3]]) == snapshot(
        [d[0], d[1], d[2].convert("RGB")])
    assert aug.images[1].tobytes() == imgs["target"].tobytes()
    assert aug.region.image == 1 and aug.region.box.as_tuple() == (0, 0, 40, 20)
    assert aug.region.row is None and aug.meta() == {"format": "sequence", "n_images": 4, "target_index": 1}
    assert all(im.mode == "RGB" for im in aug.images)


def test_prompt_rewrite(imgs):
    aug = sequence(imgs["target"], imgs["distractors"][:4], "<image>\nProvide a one-sentence caption.",
                   seed=0, target_index=1)
    assert aug.prompt == (
        "Image1:<image>\nImage2:<image>\nImage3:<image>\nImage4:<image>\nImage5:<image>\n"
        "In Image2, provide a one-sentence caption."
    )
    assert aug.prompt.count("<image>") == len(aug.images)
    assert aug.followup("What else?") == "In image2, what else?"


def test_determinism_and_seed_variation(imgs):
    args = (imgs["target"], imgs["distractors"][:4], "Q?")
    a, b = sequence(*args, seed=3), sequence(*args, seed=3)
    assert a.target_index == b.target_index and a.prompt == b.prompt and snapshot(a.images) == snapshot(b.images)
    assert len({sequence(*args, seed=s).target_index for s in range(20)}) > 1
    assert len({sequence(*args, seed=s).prompt for s in range(20)}) > 1


def test_inputs_untouched_and_not_aliased(imgs):
    before = snapshot([imgs["target"], *imgs["distractors"]])
    aug = sequence(imgs["target"], imgs["distractors"][:2], "Q?", seed=0)
    aug.images[aug.target_index].paste((0, 0, 0), (0, 0, 5, 5))
    noisy = corrupt(aug, seed=0, std=50)
    assert snapshot([imgs["target"], *imgs["distractors"]]) == before
    assert noisy.images is not aug.images


def test_validation(imgs):
    with pytest.raises(ValueError):
        sequence(imgs["target"], [], "Q?", seed=0)
    with pytest.raises(ValueError):
        sequence(imgs["target"], imgs["distractors"][:1], "Q?", seed=0, target_index=2)
    with pytest.raises(TypeError):
        sequence("not an image", imgs["distractors"][:1], "Q?", seed=0)
