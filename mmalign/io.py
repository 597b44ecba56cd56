"""Atomic writes: every output is written under a temporary name and renamed into place. Also the reader of
the JSONL files mmalign writes itself (user data goes through `data.reader`, which reports bad lines)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from itertools import islice
from pathlib import Path
from typing import Any


def write_text_atomic(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | Path, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_jsonl_atomic(path: str | Path, rows: Iterable[dict]) -> None:
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def read_jsonl(path: str | Path, limit: int | None = None) -> list[dict]:
    """The first `limit` (default all) non-blank lines of a JSONL file mmalign wrote, parsed."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in islice((line for line in fh if line.strip()), limit)]
