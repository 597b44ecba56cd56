"""Shapes-and-colours scenes with known truth, drawn with PIL.

A scene is one coloured shape on a dark background. Everything is derived from a seed, so a split is
fully described by (seed, count) and a held-out split is simply another seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (50, 80, 230),
    "yellow": (235, 215, 40),
    "purple": (150, 60, 190),
    "orange": (245, 140, 30),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "cross")
BACKGROUND = (20, 20, 24)


@dataclass(frozen=True)
class Scene:
    shape: str
    colour: str
    cx: float  # centre, as a fraction of the image side
    cy: float
    size: float  # half-extent, as a fraction of the image side


def sample_scene(rng: random.Random) -> Scene:
    size = rng.uniform(0.22, 0.34)
    return Scene(
        shape=rng.choice(SHAPES),
        colour=rng.choice(sorted(COLOURS)),
        cx=rng.uniform(size, 1 - size),
        cy=rng.uniform(size, 1 - size),
        size=size,
    )


def draw_scene(scene: Scene, px: int = 32) -> Image.Image:
    """Render a scene as an RGB image of px x px pixels."""
    img = Image.new("RGB", (px, px), BACKGROUND)
    d = ImageDraw.Draw(img)
    fill = COLOURS[scene.colour]
    cx, cy, r = scene.cx * px, scene.cy * px, scene.size * px
    if scene.shape == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif scene.shape == "square":
        d.rectangle([cx - r * 0.85, cy - r * 0.85, cx + r * 0.85, cy + r * 0.85], fill=fill)
    elif scene.shape == "triangle":
        d.polygon([(cx, cy - r), (cx - r, cy + r * 0.8), (cx + r, cy + r * 0.8)], fill=fill)
    elif scene.shape == "cross":
        w = r * 0.35
        d.rectangle([cx - r, cy - w, cx + r, cy + w], fill=fill)
        d.rectangle([cx - w, cy - r, cx + w, cy + r], fill=fill)
    else:
        raise ValueError(f"unknown shape {scene.shape!r}")
    return img
