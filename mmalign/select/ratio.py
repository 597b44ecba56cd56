"""The per-format attention ratio: the share of the answer's image attention that lands on the target.

docs/research/mia_dpo.md §2.4: sequence: the target image's share of all image attention; grid collage: the
target cell's share of the collage's attention map; pic-in-pic: the central box's share of the map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..augment import Augmented, box_to_grid_mask
from .probe import ImageAttention

PIP_CENTER_FRACTION = 2 / 3  # paper: the central 16x16 of the 24x24 map (indices 4:20)


@dataclass(frozen=True)
class RatioOptions:
    """How regions map onto token grids. ``min_coverage``/``pad_square``: see
    :func:`mmalign.augment.box_to_grid_cells` (collage cell, and the inset with ``pip_region="inset"``).
    ``pip_region``: ``"center"`` (paper: the central ``pip_center_fraction`` of each side of the token
    grid) or ``"inset"`` (ours: the token cells the inset box covers)."""

    min_coverage: float = 0.5
    pad_square: bool = False
    pip_region: str = "center"
    pip_center_fraction: float = PIP_CENTER_FRACTION

    def __post_init__(self) -> None:
        if self.pip_region not in ("center", "inset"):
            raise ValueError(f"pip_region must be 'center' or 'inset', got {self.pip_region!r}")
        if not 0 < self.pip_center_fraction <= 1:
            raise ValueError(f"pip_center_fraction must be in (0, 1], got {self.pip_center_fraction}")


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else math.nan


def sequence_ratio(att: ImageAttention, target_index: int) -> float:
    """Target image's attention over all images' attention (NaN when there is none)."""
    if not 0 <= target_index < len(att.shares):
        raise ValueError(f"target image {target_index} not among {len(att.shares)} images")
    return _share(att.shares[target_index], sum(att.shares))


def mask_ratio(grid_map: np.ndarray, mask: np.ndarray) -> float:
    """Share of a token-grid attention map inside a boolean mask of the same shape."""
    if grid_map.shape != mask.shape:
        raise ValueError(f"map {grid_map.shape} and mask {mask.shape} differ in shape")
    return _share(float(grid_map[mask].sum()), float(grid_map.sum()))


def center_mask(grid_hw: tuple[int, int], fraction: float = PIP_CENTER_FRACTION) -> np.ndarray:
    """The central ``fraction`` of each side of a token grid (24x24, 2/3 -> rows and cols 4..19)."""
    rows, cols = grid_hw
    mask = np.zeros(grid_hw, dtype=bool)
    r0, c0 = round(rows * (1 - fraction) / 2), round(cols * (1 - fraction) / 2)
    mask[r0:rows - r0, c0:cols - c0] = True
    return mask


def _box_mask(att: ImageAttention, aug: Augmented, opts: RatioOptions) -> tuple[np.ndarray, np.ndarray]:
    grid_map = att.maps[aug.region.image]
    if grid_map.ndim != 2:
        raise ValueError(f"image {aug.region.image} has no 2-D token grid")
    size = aug.images[aug.region.image].size
    mask = box_to_grid_mask(aug.region.box, size, grid_map.shape, min_coverage=opts.min_coverage,
                            pad_square=opts.pad_square)
    if not mask.any():  # a grid too coarse for the box: fall back to every cell it touches
        mask = box_to_grid_mask(aug.region.box, size, grid_map.shape, min_coverage=0.0, pad_square=opts.pad_square)
    return grid_map, mask


def collage_ratio(att: ImageAttention, aug: Augmented, opts: RatioOptions = RatioOptions()) -> float:
    """Target cell's share of the collage's attention (cell -> token cells via ``box_to_grid_mask``)."""
    return mask_ratio(*_box_mask(att, aug, opts))


def pip_ratio(att: ImageAttention, aug: Augmented, opts: RatioOptions = RatioOptions()) -> float:
    """Central box's (or the inset's) share of the pic-in-pic image's attention."""
    if opts.pip_region == "inset":
        return mask_ratio(*_box_mask(att, aug, opts))
    grid_map = att.maps[aug.region.image]
    return mask_ratio(grid_map, center_mask(grid_map.shape, opts.pip_center_fraction))


def attention_ratio(att: ImageAttention, aug: Augmented, opts: RatioOptions = RatioOptions()) -> float:
    """The format's ratio for an augmented sample (``aug.format`` picks the rule)."""
    if len(att.maps) != len(aug.images):
        raise ValueError(f"the probe saw {len(att.maps)} images, the sample has {len(aug.images)}")
    if aug.format == "sequence":
        return sequence_ratio(att, aug.target_index)
    if aug.format == "grid_collage":
        return collage_ratio(att, aug, opts)
    if aug.format == "pic_in_pic":
        return pip_ratio(att, aug, opts)
    raise ValueError(f"unknown format {aug.format!r}")
