"""Building preference data from instruction data: MIA-DPO (``build_mia``); video comes later."""

from .llava_source import BAD_ROW_REASONS, BadRow, SourceRow, read_llava
from .mia import MiaConfig, build_mia
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
]
