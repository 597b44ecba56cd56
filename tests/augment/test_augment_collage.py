import numpy as np
import pytest
from augment_helpers import snapshot, solid

from mmalign.augment import (
    GRID_LAYOUTS,
    canvas_size,
    cell_boxes,
    corrupt,
    grid_collage,
    grid_layout,
    label_box,
)

CELL, MARGIN = 64, 8


def make(imgs, n, **kw):
    kw = {"seed": 0, "cell": CELL, "margin": MARGIN, **kw}
    return grid_collage(imgs["target"], imgs["distractors"][: n - 1], "What colour is it?", **kw)


def test_paper_layouts_and_canvas_sizes():
    assert GRID_LAYOUTS == {2: (1, 2), 3: (1, 3), 4: (2, 2), 6: (2, 3), 9: (3, 3)}
    # the research report's sizes at cell 448, margin 40
    assert canvas_size(1, 2) == (448 * 2 + 40, 488)
    assert canvas_size(1, 3) == (448 * 3 + 80, 488)
    assert canvas_size(2, 2) == (936, 976)
    assert canvas_size(2, 3) == (1424, 976)
    assert canvas_size(3, 3) == (1424, 1464)


@pytest.mark.parametrize("n", sorted(GRID_LAYOUTS))
def test_canvas_and_cells_for_every_count(imgs, n):
    aug = make(imgs, n)
    rows, cols = GRID_LAYOUTS[n]
    assert len(aug.images) == 1
    assert aug.images[0].size == (cols * CELL + (cols - 1) * MARGIN, rows * (CELL + MARGIN))
    assert aug.n_inputs == n and aug.meta() == {"format": "grid_collage", "n_images": n,
                                                "target_index": aug.target_index}
    boxes = cell_boxes(rows, cols, CELL, MARGIN)
    assert len(boxes) == rows * cols
    assert boxes[0].as_tuple() == (0, MARGIN, CELL, MARGIN + CELL)
    assert boxes[-1].x1 == aug.images[0].width and boxes[-1].y1 == aug.images[0].height
    r = aug.region
    assert (r.row, r.col, r.layout, r.image) == (aug.target_index // cols, aug.target_index % cols, (rows, cols), 0)
    assert r.box == boxes[aug.target_index]


def test_unsupported_counts_and_custom_layout(imgs):
    for n in (1, 5, 7, 8, 10):
        with pytest.raises(ValueError):
            grid_layout(n)
    assert grid_layout(5, (2, 3)) == (2, 3)
    with pytest.raises(ValueError):
        grid_layout(7, (2, 3))
    aug = make(imgs, 5, layout=(2, 3), target_index=0)
    assert aug.images[0].size == canvas_size(2, 3, CELL, MARGIN)
    last = np.asarray(aug.images[0])[cell_boxes(2, 3, CELL, MARGIN)[5].y0 :, 2 * (CELL + MARGIN) :]
    assert (last == 255).all()  # the unused cell and its strip stay blank


def test_cell_placement_top_left_and_center(imgs):
    aug = make(imgs, 4, target_index=3)
    arr = np.asarray(aug.images[0])
    b = aug.region.box  # target 40x20 -> fitted 64x32 at the top-left of the cell
    assert tuple(arr[b.y0 + 5, b.x0 + 5]) == (250, 10, 10)
    assert tuple(arr[b.y0 + 31, b.x1 - 1]) == (250, 10, 10)
    assert tuple(arr[b.y0 + 40, b.x0 + 5]) == (255, 255, 255)  # padding right/bottom, white
    first = cell_boxes(2, 2, CELL, MARGIN)[0]  # distractor 0 (30x30 green) fills cell 0
    assert tuple(arr[first.y1 - 1, first.x1 - 1]) == (10, 200, 10)
    centred = np.asarray(make(imgs, 4, target_index=3, align="center").images[0])
    assert tuple(centred[b.y0 + 5, b.x0 + 5]) == (255, 255, 255)
    assert tuple(centred[b.y0 + 16, b.x0 + 5]) == (250, 10, 10)
    assert tuple(centred[b.y0 + 47, b.x0 + 5]) == (250, 10, 10)
    assert tuple(centred[b.y0 + 48, b.x0 + 5]) == (255, 255, 255)


@pytest.mark.parametrize("n", sorted(GRID_LAYOUTS))
def test_label_strips_present_and_distinct(imgs, n):
    aug = make(imgs, n)
    rows, cols = GRID_LAYOUTS[n]
    arr = np.asarray(aug.images[0])
    strips = []
    for box in cell_boxes(rows, cols, CELL, MARGIN):
        lb = label_box(box, MARGIN)
        assert lb.height == MARGIN and lb.y1 == box.y0
        strip = arr[lb.y0 : lb.y1, lb.x0 : lb.x1]
        dark = strip.min(axis=2) < 128
        assert dark.any(), "label text missing"
        xs = np.nonzero(dark.any(axis=0))[0]
        assert xs.min() >= MARGIN // 2 - 1  # inset from the cell's left edge
        strips.append(strip.tobytes())
    assert len(set(strips)) == len(strips)  # "Image1", "Image2", ... differ
    # the gaps between columns carry no text
    for c in range(1, cols):
        gap = arr[:, c * (CELL + MARGIN) - MARGIN : c * (CELL + MARGIN)]
        assert (gap == 255).all()


def test_no_labels_and_label_validation(imgs):
    arr = np.asarray(make(imgs, 2, labels=False).images[0])
    assert (arr[:MARGIN] == 255).all()
    with pytest.raises(ValueError):
        make(imgs, 2, margin=0)
    assert make(imgs, 2, margin=0, labels=False).images[0].size == (2 * CELL, CELL)


def test_prompt_rewrite(imgs):
    aug = grid_collage(imgs["target"], imgs["distractors"][:3], "<image>\nWhat colour is the shape?",
                       seed=0, target_index=2, cell=CELL, margin=MARGIN)
    assert aug.prompt == "<image>\nIn Image3, what colour is the shape?"
    assert aug.prompt.count("<image>") == len(aug.images) == 1
    assert aug.reference == "In Image3"
    assert aug.followup("Is it big?") == "In image3, is it big?"


def test_determinism_and_seed_variation(imgs):
    a, b = make(imgs, 9, seed=5), make(imgs, 9, seed=5)
    assert snapshot(a.images) == snapshot(b.images) and a.prompt == b.prompt and a.region == b.region
    positions = {make(imgs, 9, seed=s).target_index for s in range(12)}
    assert len(positions) > 1
    differing = [s for s in range(1, 12) if snapshot(make(imgs, 9, seed=s).images) != snapshot(a.images)]
    assert differing


def test_inputs_untouched(imgs):
    before = snapshot([imgs["target"], *imgs["distractors"]])
    aug = make(imgs, 9)
    corrupt(aug, seed=0)
    assert snapshot([imgs["target"], *imgs["distractors"]]) == before
    assert all(im is not imgs["target"] for im in aug.images)


def test_target_index_validation(imgs):
    with pytest.raises(ValueError):
        make(imgs, 4, target_index=4)
    with pytest.raises(ValueError):
        grid_collage(solid(4, 4, (0, 0, 0)), [], "q", seed=0, cell=CELL, margin=MARGIN)
