"""Resumable work in parts: one growing JSONL file per worker (a model, a judge), merged at the end.

`mmalign generate` and `mmalign score` run one model at a time over every record (so several 7B models never
share memory) and append each finished record to `OUT/parts/<stage>-<k>.jsonl`, one flushed line each. A
rerun of the same command skips the records already there (a torn last line is dropped by
`mmalign.io.resume_jsonl`) and then merges the parts into the output file, written atomically. Because
every line depends only on its record and seeds derived from it, the merged file is byte for byte what an
uninterrupted run writes.

The settings of a run are kept in `OUT/parts/<stage>.json`; rerunning into the same folder with other
settings is refused, so two runs never mix in one file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import MMAlignError
from ..io import resume_jsonl, write_json_atomic


def parts_dir(out: str | Path) -> Path:
    return Path(out) / "parts"


def claim_settings(out: str | Path, stage: str, settings: dict[str, Any]) -> None:
    """Record `settings` for `stage` in OUT, or check they equal those of the run that started there."""
    path = parts_dir(out) / f"{stage}.json"
    settings = json.loads(json.dumps(settings))  # as they read back (tuples -> lists)
    if path.is_file():
        before = json.loads(path.read_text(encoding="utf-8"))
        changed = sorted(k for k in before.keys() | settings.keys() if before.get(k) != settings.get(k))
        if changed:
            raise MMAlignError(
                f"{path.parent.parent} holds a {stage} run with other settings ({', '.join(changed)}): rerun it "
                f"with the same ones to resume, or give another --out")
        return
    write_json_atomic(path, settings)


def part_path(out: str | Path, stage: str, index: int) -> Path:
    return parts_dir(out) / f"{stage}-{index}.jsonl"


def finished_lines(path: Path) -> dict[str, dict]:
    """{id: line} of the records a part already holds (a torn last line is cut off the file)."""
    return {str(line["id"]): line for line in resume_jsonl(path)}
