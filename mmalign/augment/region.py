"""Boxes and regions in canvas pixels, and their mapping onto a model's visual-token grid.

The attention probe (``mmalign.select``) gets a token grid ``(rows, cols)`` per image from the model
adapter and uses :func:`box_to_grid_cells` / :func:`grid_coverage` to find which tokens show the target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Box:
    """Axis-aligned box in pixels, half-open: columns ``x0 <= x < x1``, rows ``y0 <= y < y1``."""

    x0: int
    y0: int
    x1: int
    y1: int

    def __post_init__(self) -> None:
        if self.x1 < self.x0 or self.y1 < self.y0:
            raise ValueError(f"box has negative size: {self.as_tuple()}")

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def area(self) -> int:
        return self.width * self.height

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.x0, self.y0, self.x1, self.y1)


@dataclass(frozen=True)
class Region:
    """Where the target is in an augmented sample.

    ``image``: index of the output image that holds the target (sequence: the target's position; collage
    and pic-in-pic: 0). ``box``: the target's pixels in that image (sequence: the whole image; collage:
    the grid cell, label strip excluded; pic-in-pic: the inset). ``row``/``col``: the target's grid cell and
    ``layout``: the collage's ``(rows, cols)``, collage only.
    """

    image: int
    box: Box
    row: int | None = None
    col: int | None = None
    layout: tuple[int, int] | None = None

    def grid_cells(self, canvas_size: tuple[int, int], grid_hw: tuple[int, int], **kw) -> list[tuple[int, int]]:
        """Shortcut for :func:`box_to_grid_cells` on this region's box."""
        return box_to_grid_cells(self.box, canvas_size, grid_hw, **kw)


BoxLike = Box | tuple[float, float, float, float]


def _as_floats(box: BoxLike) -> tuple[float, float, float, float]:
    t = box.as_tuple() if isinstance(box, Box) else tuple(box)
    if len(t) != 4:
        raise ValueError(f"a box is (x0, y0, x1, y1), got {box!r}")
    return tuple(float(v) for v in t)  # type: ignore[return-value]


def _overlaps(lo: float, hi: float, n: int, extent: float) -> np.ndarray:
    """Length of [lo, hi) inside each of n equal bins that tile [0, extent)."""
    edges = np.arange(n + 1, dtype=np.float64) * (extent / n)
    return np.clip(np.minimum(hi, edges[1:]) - np.maximum(lo, edges[:-1]), 0.0, None)


def grid_coverage(
    box: BoxLike, canvas_size: tuple[int, int], grid_hw: tuple[int, int], *, pad_square: bool = False
) -> np.ndarray:
    """Fraction of each token cell's area covered by ``box``: float array of shape ``grid_hw``.

    ``canvas_size`` is ``(width, height)`` as in PIL; ``grid_hw`` is ``(rows, cols)`` of the token grid,
    which is assumed to tile the whole canvas evenly. ``pad_square=True`` first pads the canvas to a
    centred square of side ``max(W, H)`` (LLaVA-1.5's ``image_aspect_ratio: pad``), shifting the box.
    """
    x0, y0, x1, y1 = _as_floats(box)
    width, height = (float(v) for v in canvas_size)
    rows, cols = grid_hw
    if rows < 1 or cols < 1 or width <= 0 or height <= 0:
        raise ValueError(f"need a positive canvas and grid, got canvas {canvas_size}, grid {grid_hw}")
    if pad_square:
        side = max(width, height)
        dx, dy = (side - width) / 2, (side - height) / 2
        x0, x1, y0, y1 = x0 + dx, x1 + dx, y0 + dy, y1 + dy
        width = height = side
    ox = _overlaps(x0, x1, cols, width) / (width / cols)  # [cols]
    oy = _overlaps(y0, y1, rows, height) / (height / rows)  # [rows]
    return np.outer(oy, ox)  # [rows, cols]


def box_to_grid_cells(
    box: BoxLike,
    canvas_size: tuple[int, int],
    grid_hw: tuple[int, int],
    *,
    min_coverage: float = 0.5,
    pad_square: bool = False,
) -> list[tuple[int, int]]:
    """Token cells ``(row, col)``, row-major, whose area is at least ``min_coverage`` inside ``box``.

    ``min_coverage=0`` keeps every cell with any overlap. See :func:`grid_coverage` for the arguments.
    """
    if not 0.0 <= min_coverage <= 1.0:
        raise ValueError(f"min_coverage must be in [0, 1], got {min_coverage}")
    cov = grid_coverage(box, canvas_size, grid_hw, pad_square=pad_square)
    eps = 1e-9
    keep = cov > eps if min_coverage == 0 else cov >= min_coverage - eps
    return [(int(r), int(c)) for r, c in zip(*np.nonzero(keep))]


def box_to_grid_mask(box: BoxLike, canvas_size: tuple[int, int], grid_hw: tuple[int, int], **kw) -> np.ndarray:
    """Boolean ``grid_hw`` mask of the cells :func:`box_to_grid_cells` returns."""
    mask = np.zeros(grid_hw, dtype=bool)
    for r, c in box_to_grid_cells(box, canvas_size, grid_hw, **kw):
        mask[r, c] = True
    return mask
