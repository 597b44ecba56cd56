import numpy as np
import pytest

from mmalign.augment import Box, Region, box_to_grid_cells, box_to_grid_mask, grid_coverage


def test_box_basics():
    b = Box(2, 3, 10, 7)
    assert (b.width, b.height, b.area, b.as_tuple()) == (8, 4, 32, (2, 3, 10, 7))
    with pytest.raises(ValueError):
        Box(5, 0, 4, 1)


def test_quadrant_exact():
    # canvas 100x100, 4x4 tokens of 25 px: the top-left quarter is exactly the top-left 2x2 tokens
    assert box_to_grid_cells((0, 0, 50, 50), (100, 100), (4, 4)) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_partial_coverage_hand_worked():
    # box 10..60 on both axes, tokens of 25 px: per-axis coverage = [15, 25, 10, 0] / 25
    cov = grid_coverage((10, 10, 60, 60), (100, 100), (4, 4))
    axis = np.array([0.6, 1.0, 0.4, 0.0])
    assert np.allclose(cov, np.outer(axis, axis))
    assert box_to_grid_cells((10, 10, 60, 60), (100, 100), (4, 4)) == [(0, 1), (1, 0), (1, 1)]
    assert box_to_grid_cells((10, 10, 60, 60), (100, 100), (4, 4), min_coverage=1.0) == [(1, 1)]
    assert len(box_to_grid_cells((10, 10, 60, 60), (100, 100), (4, 4), min_coverage=0)) == 9


def test_non_square_canvas_and_grid():
    # 2x2 collage at cell 448, margin 40: canvas 936x976, token grid 24x24 (LLaVA without padding)
    cell = Box(488, 40, 936, 488)  # Image2, top-right
    cells = box_to_grid_cells(cell, (936, 976), (24, 24))
    rows = sorted({r for r, _ in cells})
    cols = sorted({c for _, c in cells})
    # token rows are 976/24 = 40.67 px: row 0 (0..40.67) is 0.016 covered -> out; row 11 ends at 488 -> in.
    # token cols are 936/24 = 39 px: col 12 (468..507) is 19/39 = 0.49 covered -> out; col 13 on -> in.
    assert rows == list(range(1, 12)) and cols == list(range(13, 24))


def test_pad_square_shifts_box():
    # 200x100 canvas padded to 200x200: the canvas sits in rows 50..150
    assert box_to_grid_cells((0, 0, 200, 100), (200, 100), (4, 4), pad_square=True) == [
        (r, c) for r in (1, 2) for c in range(4)
    ]
    assert box_to_grid_cells((0, 0, 100, 100), (200, 100), (2, 2)) == [(0, 0), (1, 0)]


def test_mask_and_region_shortcut():
    mask = box_to_grid_mask((0, 0, 50, 50), (100, 100), (2, 2))
    assert mask.tolist() == [[True, False], [False, False]]
    region = Region(image=0, box=Box(50, 0, 100, 100), row=0, col=1, layout=(1, 2))
    assert region.grid_cells((100, 100), (2, 2)) == [(0, 1), (1, 1)]


def test_validation():
    with pytest.raises(ValueError):
        grid_coverage((0, 0, 1, 1), (0, 10), (2, 2))
    with pytest.raises(ValueError):
        box_to_grid_cells((0, 0, 1, 1), (10, 10), (2, 2), min_coverage=1.5)
    with pytest.raises(ValueError):
        grid_coverage((0, 0, 1), (10, 10), (2, 2))
