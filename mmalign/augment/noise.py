"""Corruptions applied to the augmented input before the model generates its (rejected) answer.

Per mia_dpo.md §2.2 the paper's code adds Gaussian noise of std 225 to the target cell of a grid
collage, of std 49 to the whole pic-in-pic image, and none to sequences. The saved pair keeps the clean
images; only the rejection is generated from the corrupted ones.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image

from .region import Box
from .result import Augmented

# None: the paper leaves this format clean (its noise helper is commented out).
NOISE_STD: dict[str, float | None] = {"sequence": None, "grid_collage": 225.0, "pic_in_pic": 49.0}


def add_noise(
    image: Image.Image,
    *,
    seed: int,
    std: float,
    box: Box | tuple[int, int, int, int] | None = None,
    overflow: str = "clip",
) -> Image.Image:
    """A new image with zero-mean Gaussian noise of ``std`` (in 0-255 units) added inside ``box``.

    ``box=None`` noises the whole image; a box is clipped to the image. ``overflow="clip"`` (ours)
    clips the sum to 0..255; ``"wrap"`` truncates the noise to an integer and wraps modulo 256, which is
    what the paper's pic-in-pic helper does by casting the noise to uint8. "L" and "RGB" images keep
    their mode; others are converted to RGB.
    """
    if std < 0:
        raise ValueError(f"std must be >= 0, got {std}")
    if overflow not in ("clip", "wrap"):
        raise ValueError(f"overflow must be 'clip' or 'wrap', got {overflow!r}")
    src = image if image.mode in ("L", "RGB") else image.convert("RGB")
    arr = np.array(src, dtype=np.int64)  # a copy: the input is never touched
    w, h = src.size
    x0, y0, x1, y1 = box.as_tuple() if isinstance(box, Box) else (box or (0, 0, w, h))
    x0, x1 = max(0, min(w, int(x0))), max(0, min(w, int(x1)))
    y0, y1 = max(0, min(h, int(y0))), max(0, min(h, int(y1)))
    patch = arr[y0:y1, x0:x1]
    noise = np.random.default_rng(seed).normal(0.0, std, size=patch.shape)
    if overflow == "clip":
        patch = np.clip(np.rint(patch + noise), 0, 255)
    else:
        patch = (patch + np.trunc(noise).astype(np.int64)) % 256
    arr[y0:y1, x0:x1] = patch
    return Image.fromarray(arr.astype(np.uint8), mode=src.mode)


def paper_block(canvas_size: tuple[int, int], layout: tuple[int, int], row: int, col: int) -> Box:
    """The paper's noise region for a collage cell: an even (H // rows) x (W // cols) block, margins
    and label strips included."""
    (w, h), (rows, cols) = canvas_size, layout
    bh, bw = h // rows, w // cols
    return Box(col * bw, row * bh, (col + 1) * bw, (row + 1) * bh)


def corrupt(
    augmented: Augmented,
    *,
    seed: int,
    std: float | None = None,
    collage_region: str = "cell",
    overflow: str = "clip",
) -> Augmented:
    """The same sample with its images corrupted the way its format calls for (see :data:`NOISE_STD`).

    ``std=None`` takes the format's default; a sequence with no std stays clean, and with a std gets
    noise on the target image only. A collage gets noise on the target only: ``collage_region="cell"``
    (ours, default) noises the cell box exactly, ``"block"`` the paper's even block (:func:`paper_block`).
    A pic-in-pic gets noise over the whole image. Prompt, target and region are unchanged.
    """
    fmt = augmented.format
    if fmt not in NOISE_STD:
        raise ValueError(f"unknown format {fmt!r}")
    if collage_region not in ("cell", "block"):
        raise ValueError(f"collage_region must be 'cell' or 'block', got {collage_region!r}")
    std = NOISE_STD[fmt] if std is None else std
    images = list(augmented.images)
    region = augmented.region
    if std is None:
        images = [im.copy() for im in images]
    elif fmt == "pic_in_pic":
        images = [add_noise(im, seed=seed, std=std, overflow=overflow) for im in images]
    else:
        box = region.box
        if fmt == "grid_collage" and collage_region == "block":
            box = paper_block(images[0].size, region.layout, region.row, region.col)
        images = [
            add_noise(im, seed=seed, std=std, box=box, overflow=overflow) if i == region.image else im.copy()
            for i, im in enumerate(images)
        ]
    return dataclasses.replace(augmented, images=tuple(images))
