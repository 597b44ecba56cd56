"""Prompt rewriting for the three MIA-DPO formats (research report mia_dpo.md §1.3-1.5).

Sequence:     "Image1:<image>\\nImage2:<image>\\n...In Image{k}, " + question (first letter lowered)
Grid collage: "<image>\\nIn Image{k}, " + question
Pic-in-pic:   "<image>\\n" + phrase + ", " + question, phrase drawn with the seed
Later turns:  "In image{k}, " (lower-case "image", as the paper's code does) or the same phrase.
"""

from __future__ import annotations

import random
import re

IMAGE_TOKEN = "<image>"

# Ours. The paper's code draws from 93 such phrases that are not reproduced here; the first five below are
# the examples the report quotes. Pass ``phrases=`` to pic_in_pic to use another list.
PIP_PHRASES: tuple[str, ...] = (
    "For the image in the center",
    "Regarding the central image",
    "Concerning the middle image",
    "As for the central subplot",
    "For the central plot",
    "Regarding the middle image",
    "Looking at the image in the middle",
    "In the central picture",
    "About the picture in the center",
    "Focusing on the inner image",
    "For the smaller image in the middle",
    "Considering the centred picture",
)

_PLACEHOLDER = re.compile(r"\s*<image>\s*")


def strip_placeholders(question: str) -> str:
    """Remove any ``<image>`` placeholder (and the whitespace around it) from a question."""
    return _PLACEHOLDER.sub(" ", question).strip()


def lower_first(text: str) -> str:
    """Lower the first letter, as the paper does, unless the first word is "I" or an acronym ("OCR")."""
    if not text:
        return text
    first = text.split(maxsplit=1)[0].rstrip(",.?!:;'\"")
    if first == "I" or (len(first) > 1 and first.isupper()) or first.startswith("I'"):
        return text
    return text[0].lower() + text[1:]


def image_label(index: int) -> str:
    """The 1-based label of a 0-based image or cell index: ``Image{index + 1}``."""
    return f"Image{index + 1}"


def _refer(reference: str, question: str) -> str:
    return f"{reference}, {lower_first(strip_placeholders(question))}"


def sequence_prompt(question: str, n_images: int, target_index: int) -> tuple[str, str]:
    """(prompt, reference) for the sequence format."""
    head = "".join(f"{image_label(i)}:{IMAGE_TOKEN}\n" for i in range(n_images))
    reference = f"In {image_label(target_index)}"
    return head + _refer(reference, question), reference


def collage_prompt(question: str, target_index: int) -> tuple[str, str]:
    """(prompt, reference) for the grid-collage format."""
    reference = f"In {image_label(target_index)}"
    return f"{IMAGE_TOKEN}\n" + _refer(reference, question), reference


def pip_prompt(question: str, rng: random.Random, phrases: tuple[str, ...] = PIP_PHRASES) -> tuple[str, str]:
    """(prompt, reference) for pic-in-pic; the phrase is drawn from ``phrases`` with ``rng``."""
    if not phrases:
        raise ValueError("phrases must not be empty")
    reference = rng.choice(tuple(phrases))
    return f"{IMAGE_TOKEN}\n" + _refer(reference, question), reference


def followup_question(question: str, fmt: str, reference: str) -> str:
    """A later user turn pointing at the same target: "In image{k}, ..." or the same pic-in-pic phrase."""
    if fmt in ("sequence", "grid_collage"):
        reference = reference.replace("In Image", "In image", 1)
    return _refer(reference, question)
