"""Format (b), Grid Collage: target and distractors in one labelled grid image (mia_dpo.md §1.4).

Geometry (paper's code): every image is resized, aspect kept, to fit a ``cell`` x ``cell`` square and
pasted at its top-left; cell (row, col) starts at x = col * (cell + margin), y = row * (cell + margin) +
margin; the canvas is cols * cell + (cols - 1) * margin wide and rows * (cell + margin) high, white. The
``margin``-px strip above each cell holds its label "Image{i}" (row-major, from 1).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from ._util import place_target, rgb_copy
from .prompts import collage_prompt, image_label
from .region import Box, Region
from .result import Augmented

GRID_LAYOUTS: dict[int, tuple[int, int]] = {2: (1, 2), 3: (1, 3), 4: (2, 2), 6: (2, 3), 9: (3, 3)}
CELL = 448
MARGIN = 40
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


def grid_layout(n_images: int, layout: tuple[int, int] | None = None) -> tuple[int, int]:
    """(rows, cols) for ``n_images``: the paper's layout, or ``layout`` if given (it must hold them all)."""
    if layout is not None:
        rows, cols = layout
        if rows < 1 or cols < 1 or rows * cols < n_images:
            raise ValueError(f"layout {layout} cannot hold {n_images} images")
        return rows, cols
    if n_images not in GRID_LAYOUTS:
        raise ValueError(
            f"no grid layout for {n_images} images; supported counts: {sorted(GRID_LAYOUTS)} "
            "(or pass layout=(rows, cols))"
        )
    return GRID_LAYOUTS[n_images]


def canvas_size(rows: int, cols: int, cell: int = CELL, margin: int = MARGIN) -> tuple[int, int]:
    """(width, height) of a rows x cols collage."""
    return cols * cell + (cols - 1) * margin, rows * (cell + margin)


def cell_boxes(rows: int, cols: int, cell: int = CELL, margin: int = MARGIN) -> list[Box]:
    """Row-major boxes of the cells (the image area, label strip excluded)."""
    step = cell + margin
    return [
        Box(c * step, r * step + margin, c * step + cell, r * step + margin + cell)
        for r in range(rows)
        for c in range(cols)
    ]


def label_box(cell_box: Box, margin: int = MARGIN) -> Box:
    """The label strip right above a cell."""
    return Box(cell_box.x0, cell_box.y0 - margin, cell_box.x1, cell_box.y0)


def _fit(image: Image.Image, cell: int) -> Image.Image:
    w, h = image.size
    s = cell / max(w, h)
    size = (max(1, min(cell, round(w * s))), max(1, min(cell, round(h * s))))
    return image.resize(size, Image.Resampling.LANCZOS) if size != image.size else image


def _label_strip(text: str, width: int, margin: int, font_size: int | None, colour, background) -> Image.Image:
    """The label drawn with PIL's default font, inset margin // 2 from the left, centred vertically."""
    strip = Image.new("RGB", (width, margin), background)
    size = font_size if font_size is not None else max(1, round(0.9 * margin))
    font = ImageFont.load_default(size=size)
    draw = ImageDraw.Draw(strip)
    _, top, _, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text((margin // 2, (margin - (bottom - top)) // 2 - top), text, fill=colour, font=font)
    return strip


def grid_collage(
    target: Image.Image,
    distractors: Sequence[Image.Image],
    question: str,
    *,
    seed: int,
    target_index: int | None = None,
    cell: int = CELL,
    margin: int = MARGIN,
    layout: tuple[int, int] | None = None,
    labels: bool = True,
    align: str = "top_left",
    font_size: int | None = None,
    background: tuple[int, int, int] = WHITE,
    label_colour: tuple[int, int, int] = BLACK,
) -> Augmented:
    """One collage of ``target`` + ``distractors`` (2, 3, 4, 6 or 9 images) with "Image{i}" labels.

    The target takes cell ``target_index`` (0-based, row-major) or one drawn with ``seed``; distractors
    fill the other cells in order. ``align``: "top_left" (paper) or "center" (ours) placement of a
    non-square image in its cell. ``font_size`` defaults to 0.9 * margin (36 at the paper's 40 px).
    ``layout=(rows, cols)`` overrides the paper's layout (unused cells stay blank).
    """
    if cell < 1 or margin < 0:
        raise ValueError(f"need cell >= 1 and margin >= 0, got cell={cell}, margin={margin}")
    if labels and margin < 1:
        raise ValueError("labels are drawn in the margin strip: use margin >= 1 or labels=False")
    if align not in ("top_left", "center"):
        raise ValueError(f"align must be 'top_left' or 'center', got {align!r}")
    rng = random.Random(seed)
    images, k = place_target(target, distractors, rng, target_index)
    rows, cols = grid_layout(len(images), layout)
    boxes = cell_boxes(rows, cols, cell, margin)
    canvas = Image.new("RGB", canvas_size(rows, cols, cell, margin), background)
    for i, (image, box) in enumerate(zip(images, boxes)):
        fitted = _fit(rgb_copy(image), cell)
        dx = (cell - fitted.width) // 2 if align == "center" else 0
        dy = (cell - fitted.height) // 2 if align == "center" else 0
        canvas.paste(fitted, (box.x0 + dx, box.y0 + dy))
        if labels:
            strip = _label_strip(image_label(i), cell, margin, font_size, label_colour, background)
            canvas.paste(strip, (box.x0, box.y0 - margin))
    prompt, reference = collage_prompt(question, k)
    return Augmented(
        images=(canvas,),
        prompt=prompt,
        target_index=k,
        region=Region(image=0, box=boxes[k], row=k // cols, col=k % cols, layout=(rows, cols)),
        format="grid_collage",
        reference=reference,
        n_inputs=len(images),
    )
