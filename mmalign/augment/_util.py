"""Small helpers shared by the augmentations."""

from __future__ import annotations

import random
from collections.abc import Sequence

from PIL import Image


def rgb_copy(image: Image.Image) -> Image.Image:
    """A fresh RGB image; the caller's object is never returned or modified."""
    if not isinstance(image, Image.Image):
        raise TypeError(f"expected a PIL image, got {type(image).__name__}")
    return image.convert("RGB") if image.mode != "RGB" else image.copy()


def place_target(
    target: Image.Image, distractors: Sequence[Image.Image], rng: random.Random, target_index: int | None
) -> tuple[list[Image.Image], int]:
    """Insert the target among the distractors (kept in order) at ``target_index`` or a seeded position."""
    distractors = list(distractors)
    if not distractors:
        raise ValueError("need at least one distractor image")
    n = len(distractors) + 1
    if target_index is None:
        target_index = rng.randrange(n)
    elif not 0 <= target_index < n:
        raise ValueError(f"target_index must be in [0, {n - 1}] for {n} images, got {target_index}")
    images = distractors[:target_index] + [target] + distractors[target_index:]
    return images, target_index
