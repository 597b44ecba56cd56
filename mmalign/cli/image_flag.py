"""`--max-image-pixels N`, for the commands that open images from a data root (data validate, generate,
score, eval, build-data mia); `mmalign train` takes the config key of the same name."""

from __future__ import annotations

import argparse

from ..data.image_limits import DEFAULT_MAX_IMAGE_PIXELS, set_max_image_pixels


def add_max_image_pixels(parser) -> None:
    """Add the flag to an argparse parser or argument group."""
    parser.add_argument("--max-image-pixels", type=int, default=None, metavar="N",
                        help="images with more pixels (width x height) are refused before they are decoded: "
                             f"decompression bombs, absurd sizes (default {DEFAULT_MAX_IMAGE_PIXELS:,})")


def apply_max_image_pixels(args: argparse.Namespace) -> None:
    if getattr(args, "max_image_pixels", None) is not None:
        set_max_image_pixels(args.max_image_pixels)
