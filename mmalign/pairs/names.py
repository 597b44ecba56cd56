"""File names for pair-building outputs (the JSONL files themselves go through `mmalign.io`)."""

from __future__ import annotations

import hashlib
import re


def safe_name(row_id: str) -> str:
    """A file-name stem for a row id: readable, and unique through a short hash."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", row_id)[:80]
    return f"{stem}-{hashlib.sha1(row_id.encode()).hexdigest()[:8]}"
