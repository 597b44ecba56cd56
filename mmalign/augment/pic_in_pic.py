"""Format (c), Pic-in-Pic: the target pasted, centred, over an unrelated background image."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from PIL import Image

from ._util import rgb_copy
from .prompts import PIP_PHRASES, pip_prompt
from .region import Box, Region
from .result import Augmented

PIP_SCALE = 0.7  # paper: the inset spans 70% of the background along its limiting side


def inset_box(target_size: tuple[int, int], background_size: tuple[int, int], scale: float = PIP_SCALE) -> Box:
    """The inset's box: aspect ratio kept, ``scale`` of the background on the limiting side, centred."""
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    (w1, h1), (bw, bh) = target_size, background_size
    aspect = w1 / h1
    if bw * scale / aspect <= bh * scale:  # width is the limiting side
        new_w = math.floor(scale * bw)
        new_h = math.floor(new_w / aspect)
    else:
        new_h = math.floor(scale * bh)
        new_w = math.floor(new_h * aspect)
    new_w, new_h = max(1, new_w), max(1, new_h)
    x0, y0 = (bw - new_w) // 2, (bh - new_h) // 2
    return Box(x0, y0, x0 + new_w, y0 + new_h)


def _check_image(name: str, value) -> None:
    if isinstance(value, Image.Image):
        return
    if isinstance(value, (list, tuple)):
        raise TypeError(f"pic_in_pic: {name} must be one PIL image, got a {type(value).__name__} of "
                        f"{len(value)}; Pic-in-Pic pastes one target over one background (several images: "
                        "use sequence or grid_collage)")
    raise TypeError(f"pic_in_pic: {name} must be a PIL image, got {type(value).__name__}")


def pic_in_pic(
    target: Image.Image,
    background: Image.Image,
    question: str,
    *,
    seed: int,
    scale: float = PIP_SCALE,
    phrases: Sequence[str] = PIP_PHRASES,
) -> Augmented:
    """One image: ``background`` at its own resolution with ``target`` resized (LANCZOS) into its centre.

    The question is prefixed with a phrase drawn from ``phrases`` with ``seed`` ("Regarding the central
    image, ..."). ``region.box`` is the inset. A list (or anything but a PIL image) for either image is a
    TypeError that says so.
    """
    _check_image("target", target)
    _check_image("background", background)
    if not isinstance(question, str):
        raise TypeError(f"pic_in_pic: question must be a string, got {type(question).__name__}")
    rng = random.Random(seed)
    box = inset_box(target.size, background.size, scale)
    canvas = rgb_copy(background)
    inset = rgb_copy(target).resize((box.width, box.height), Image.Resampling.LANCZOS)
    canvas.paste(inset, (box.x0, box.y0))
    prompt, reference = pip_prompt(question, rng, tuple(phrases))
    return Augmented(
        images=(canvas,),
        prompt=prompt,
        target_index=0,
        region=Region(image=0, box=box),
        format="pic_in_pic",
        reference=reference,
        n_inputs=2,
    )
