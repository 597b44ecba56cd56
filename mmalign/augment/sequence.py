"""Format (a), Sequence: the target and its distractors as separate images, "Image{i}:<image>" each."""

from __future__ import annotations

import random
from collections.abc import Sequence

from PIL import Image

from ._util import place_target, rgb_copy
from .prompts import sequence_prompt
from .region import Box, Region
from .result import Augmented


def sequence(
    target: Image.Image,
    distractors: Sequence[Image.Image],
    question: str,
    *,
    seed: int,
    target_index: int | None = None,
) -> Augmented:
    """Put ``target`` among ``distractors`` (their order kept) and point the question at it.

    The target goes to ``target_index`` (0-based) or, when None, to a position drawn with ``seed``.
    Images are copied (converted to RGB), not resized. The paper uses 2-5 images in all; any count >= 2
    is accepted here.
    """
    rng = random.Random(seed)
    images, k = place_target(target, distractors, rng, target_index)
    out = tuple(rgb_copy(im) for im in images)
    prompt, reference = sequence_prompt(question, len(out), k)
    w, h = out[k].size
    return Augmented(
        images=out,
        prompt=prompt,
        target_index=k,
        region=Region(image=k, box=Box(0, 0, w, h)),
        format="sequence",
        reference=reference,
        n_inputs=len(out),
    )
