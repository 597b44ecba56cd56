"""Building preference pairs from instruction data: MIA-DPO (``build_mia``) and offline video pairs
(``pairs.video.build_video_pairs``, imported from there: it pulls in the video codecs)."""

from ..data.llava_source import BAD_ROW_REASONS, BadRow, SourceRow, read_llava
from .mia import MiaConfig, build_mia, summary_text
from .plan import (
    COLLAGE_COUNTS,
    DEFAULT_PROPORTIONS,
    FORMATS,
    SEQUENCE_COUNTS,
    Plan,
    assign_formats,
    normalise_proportions,
    parse_formats,
    plan_rows,
)

__all__ = [
    "BAD_ROW_REASONS", "COLLAGE_COUNTS", "DEFAULT_PROPORTIONS", "FORMATS", "SEQUENCE_COUNTS",
    "BadRow", "MiaConfig", "Plan", "SourceRow",
    "assign_formats", "build_mia", "normalise_proportions", "parse_formats", "plan_rows", "read_llava",
    "summary_text",
]
