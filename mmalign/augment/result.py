"""The one result type of every augmentation."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from .prompts import followup_question
from .region import Region


@dataclass(frozen=True)
class Augmented:
    """An augmented sample.

    ``images``: the output images (fresh PIL objects, never the caller's). ``prompt``: the first user turn,
    one ``<image>`` placeholder per output image, then the rewritten question. ``target_index``: 0-based
    position of the target (sequence: its image; collage: its cell, row-major; pic-in-pic: always 0).
    The prompt names it 1-based ("Image{target_index + 1}"). ``region``: where the target's pixels are.
    ``format``: ``"sequence" | "grid_collage" | "pic_in_pic"``. ``reference``: the phrase the prompt uses
    to point at the target ("In Image2", "Regarding the central image"). ``n_inputs``: how many source
    images went in (target + distractors, or 2 for pic-in-pic).
    """

    images: tuple[Image.Image, ...]
    prompt: str
    target_index: int
    region: Region
    format: str
    reference: str
    n_inputs: int

    def followup(self, question: str) -> str:
        """Rewrite a later user turn so it points at the same target (no placeholders)."""
        return followup_question(question, self.format, self.reference)

    def meta(self) -> dict:
        """The ``meta`` block of a preference record."""
        return {"format": self.format, "n_images": self.n_inputs, "target_index": self.target_index}
