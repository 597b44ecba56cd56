"""Outputs that grow while a build runs: JSON lines flushed one by one, resumed after an interruption.

On resume a torn last line (no trailing newline: the run died mid-write) is cut off and the rest is
reused; DESIGN.md "Bad records".
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

from ..errors import DataError


def read_resumable(path: Path) -> list[dict]:
    """The complete lines of ``path`` (none if it does not exist); a torn last line is removed from disk."""
    if not path.is_file():
        return []
    raw = path.read_bytes()
    if raw and not raw.endswith(b"\n"):
        cut = raw.rfind(b"\n") + 1
        with open(path, "r+b") as fh:
            fh.truncate(cut)
        raw = raw[:cut]
    rows = []
    for lineno, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{lineno}: malformed JSON ({exc.msg}); move the file away to start over") from None
    return rows


def clean_json(value: Any) -> Any:
    """NaN/inf floats become None so every line is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    return value


class JsonlAppender:
    """Append JSON objects to a file, one flushed line each."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())

    def write(self, obj: dict) -> None:
        self._fh.write(json.dumps(clean_json(obj), ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def safe_name(row_id: str) -> str:
    """A file-name stem for a row id: readable, and unique through a short hash."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", row_id)[:80]
    return f"{stem}-{hashlib.sha1(row_id.encode()).hexdigest()[:8]}"
