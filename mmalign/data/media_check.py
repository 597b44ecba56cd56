"""Opening every image and video a record names: what `mmalign data validate` runs on each record, so a
file that is present but unreadable (random bytes, truncated, empty) is a bad record with its file and
line, not a crash in the middle of training.

    check = decode_check(root)            # a RecordCheck for read_records
    records, bad = read_records(path, root, "error", check=check, collect_all=True)
"""

from __future__ import annotations

import warnings
from pathlib import Path

from .image_limits import open_image
from .reader import RecordCheck
from .schema import PreferenceRecord, RecordProblem, resolve_media
from .video import load_clip
from .video_backends import native_stderr_silenced

VIDEO_FRAMES = 4  # frames decoded per video (uniform, first and last included): reaches the end of the file


def check_image(path: Path, rel: str) -> None:
    """Decode the whole image; RecordProblem("bad_media") when it cannot be."""
    from PIL import Image

    if path.stat().st_size == 0:
        raise RecordProblem("bad_media", f"image {rel!r} is empty (0 bytes)")
    try:
        with warnings.catch_warnings(), open_image(path, rel) as image:
            warnings.simplefilter("ignore")
            image.load()
    except RecordProblem:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RecordProblem("bad_media", f"image {rel!r} cannot be decoded ({reason})") from None


def check_video(path: Path, rel: str, frames: int = VIDEO_FRAMES) -> None:
    """Decode `frames` frames spread over the video; RecordProblem("bad_media") when that fails."""
    if path.stat().st_size == 0:
        raise RecordProblem("bad_media", f"video {rel!r} is empty (0 bytes)")
    try:
        with native_stderr_silenced():
            load_clip(path, frames, "uniform")
    except RecordProblem as exc:
        raise RecordProblem("bad_media", f"video {rel!r}: {exc.message}") from None


def check_record_media(rec: PreferenceRecord, root: Path) -> None:
    """Open every image and video of `rec` (rejected ones included); paths were checked by the reader."""
    for rel in list(rec.images) + list(rec.rejected_images or []):
        check_image(resolve_media(root, rel), rel)
    for rel in list(rec.videos) + list(rec.rejected_videos or []):
        check_video(resolve_media(root, rel), rel)


def decode_check(root: str | Path, then: RecordCheck | None = None) -> RecordCheck:
    """A record check that decodes the media under `root`, then runs `then` (e.g. a token-length check)."""
    root = Path(root)

    def check(rec: PreferenceRecord) -> None:
        check_record_media(rec, root)
        if then is not None:
            then(rec)

    return check
