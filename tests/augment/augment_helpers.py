"""Helpers for the augment tests (a unique module name, so it never clashes with another conftest)."""

from PIL import Image


def solid(w, h, colour):
    return Image.new("RGB", (w, h), colour)


def snapshot(images):
    """Mode, size and bytes of each image: equal snapshots mean untouched pixels."""
    return [(im.mode, im.size, im.tobytes()) for im in images]


def sample_images():
    """Small distinct images: a wide target and square/tall distractors, one of them a palette image."""
    pal = Image.new("P", (20, 20), 3)
    pal.putpalette([0, 0, 0, 10, 10, 10, 20, 20, 20, 200, 0, 200] + [0] * (256 * 3 - 12))
    return {
        "target": solid(40, 20, (250, 10, 10)),
        "distractors": [solid(30, 30, (10, 200, 10)), solid(16, 32, (10, 10, 220)), pal,
                        solid(24, 24, (200, 200, 0)), solid(24, 24, (0, 200, 200)),
                        solid(24, 24, (90, 90, 90)), solid(24, 24, (160, 40, 90)), solid(24, 24, (40, 90, 160))],
    }
