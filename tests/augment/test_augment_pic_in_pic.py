import numpy as np
import pytest
from augment_helpers import snapshot, solid

from mmalign.augment import PIP_PHRASES, PIP_SCALE, inset_box, pic_in_pic


def test_inset_size_hand_worked():
    assert PIP_SCALE == 0.7
    # square target on a 100x60 background: height limits -> 42x42, centred
    assert inset_box((10, 10), (100, 60)).as_tuple() == (29, 9, 71, 51)
    # wide target (aspect 2) on a square background: width limits -> 70x35
    assert inset_box((40, 20), (100, 100)).as_tuple() == (15, 32, 85, 67)
    # tall target (aspect 0.5) on 100x100: 100*0.7/0.5 = 140 > 70 -> height limits -> 35x70
    assert inset_box((20, 40), (100, 100)).as_tuple() == (32, 15, 67, 85)
    assert inset_box((10, 10), (100, 100), scale=0.5).as_tuple() == (25, 25, 75, 75)
    with pytest.raises(ValueError):
        inset_box((10, 10), (100, 100), scale=0)


@pytest.mark.parametrize("bg_size", [(64, 64), (80, 48), (48, 80)])
def test_composite_geometry(bg_size):
    target, bg = solid(40, 20, (250, 10, 10)), solid(*bg_size, (10, 10, 220))
    aug = pic_in_pic(target, bg, "Is there a game?", seed=0)
    (im,) = aug.images
    assert im.size == bg.size and im.mode == "RGB"  # background keeps its resolution
    b = aug.region.box
    assert (b.x0 + b.x1) in (im.width, im.width - 1) and (b.y0 + b.y1) in (im.height, im.height - 1)
    assert max(b.width / im.width, b.height / im.height) == pytest.approx(0.7, abs=1.5 / min(im.size))
    assert abs(b.width / b.height - 2.0) < 0.15
    arr = np.asarray(im)
    assert (arr[b.y0 : b.y1, b.x0 : b.x1] == (250, 10, 10)).all()
    outside = np.ones(arr.shape[:2], bool)
    outside[b.y0 : b.y1, b.x0 : b.x1] = False
    assert (arr[outside] == (10, 10, 220)).all()
    assert aug.target_index == 0 and aug.region.image == 0 and aug.n_inputs == 2


def test_prompt_rewrite():
    aug = pic_in_pic(solid(8, 8, (0, 0, 0)), solid(16, 16, (1, 1, 1)), "<image>\nIs there a game being played?",
                     seed=0, phrases=("Regarding the middle image",))
    assert aug.prompt == "<image>\nRegarding the middle image, is there a game being played?"
    assert aug.followup("What colour?") == "Regarding the middle image, what colour?"
    default = pic_in_pic(solid(8, 8, (0, 0, 0)), solid(16, 16, (1, 1, 1)), "Is it red?", seed=1)
    assert default.reference in PIP_PHRASES
    assert default.prompt == f"<image>\n{default.reference}, is it red?"
    assert default.prompt.count("<image>") == 1


def test_determinism_seed_variation_and_untouched():
    t, bg = solid(30, 20, (5, 6, 7)), solid(50, 40, (200, 100, 50))
    before = snapshot([t, bg])
    a, b = pic_in_pic(t, bg, "Q?", seed=4), pic_in_pic(t, bg, "Q?", seed=4)
    assert a.prompt == b.prompt and snapshot(a.images) == snapshot(b.images)
    assert len({pic_in_pic(t, bg, "Q?", seed=s).prompt for s in range(20)}) > 1
    assert snapshot([t, bg]) == before
    assert a.images[0] is not bg


def test_a_list_is_a_clear_type_error():
    target, bg = solid(40, 20, (250, 10, 10)), solid(64, 64, (10, 10, 220))
    with pytest.raises(TypeError, match=r"background must be one PIL image, got a list of 2.*grid_collage"):
        pic_in_pic(target, [bg, bg], "Is there a game?", seed=0)
    with pytest.raises(TypeError, match=r"target must be one PIL image, got a list of 1"):
        pic_in_pic([target], bg, "Is there a game?", seed=0)
    with pytest.raises(TypeError, match="question must be a string"):
        pic_in_pic(target, bg, ["Is there a game?"], seed=0)
