"""The largest image mmalign decodes: `max_image_pixels` (width x height), checked from the file's header
before any pixel is decoded, so a decompression bomb (a small PNG that inflates to gigabytes) or an
absurd size is a bad record with a clear message, never an out-of-memory kill.

    with open_image(path, "img/1.png") as image:   # RecordProblem("image_too_large") past the limit
        rgb = image.convert("RGB")

The limit is one setting per process: `mmalign train` sets it from the config key `max_image_pixels`, the
other commands from `--max-image-pixels` (`set_max_image_pixels`); DataLoader workers inherit it. The
default is PIL's own warning limit (89,478,485 pixels, about 9,459 x 9,459). Video frames are held to the
same limit (`check_frame_size`).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from PIL import Image

from ..errors import ConfigError
from .schema import RecordProblem

DEFAULT_MAX_IMAGE_PIXELS = 89_478_485
_limit = DEFAULT_MAX_IMAGE_PIXELS


def max_image_pixels() -> int:
    return _limit


def set_max_image_pixels(pixels: int) -> None:
    """Refuse images of more than `pixels` pixels from now on, in this process and the ones it forks.

    PIL refuses images of more than twice its own `Image.MAX_IMAGE_PIXELS` whatever is asked here, so a
    larger limit raises PIL's too (never lowers it)."""
    global _limit
    if isinstance(pixels, bool) or not isinstance(pixels, int) or pixels < 1:
        raise ConfigError(f"max_image_pixels must be a whole number of pixels >= 1, got {pixels!r}")
    _limit = pixels
    if Image.MAX_IMAGE_PIXELS is not None and pixels > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = pixels


def _too_large(rel: str, size: str, what: str = "image") -> RecordProblem:
    return RecordProblem("image_too_large",
                         f"{what} {rel!r} is {size} pixels, more than max_image_pixels ({_limit:,}): a "
                         "decompression bomb or an absurd size; raise max_image_pixels if the image is genuine")


def open_image(path: str | Path, rel: str) -> Image.Image:
    """The image at `path`, opened (its header read, nothing decoded) and checked against the limit; the
    caller closes it. `rel` names it in messages. OSError / ValueError as PIL raises them for files that are
    not images."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the limit below decides
            image = Image.open(path)
    except Image.DecompressionBombError as exc:  # past twice PIL's own limit
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise _too_large(rel, f"{int(found.group(1)):,}" if found else "too many") from None
    width, height = image.size
    if width * height > _limit:
        image.close()
        raise _too_large(rel, f"{width} x {height} = {width * height:,}")
    return image


def check_frame_size(rel: str, width: int, height: int) -> None:
    """RecordProblem("image_too_large") when a video's frames are larger than the limit."""
    if width * height > _limit:
        raise _too_large(rel, f"{width} x {height} = {width * height:,}", what="video")
