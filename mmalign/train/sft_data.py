"""Supervised fine-tuning data: LLaVA-format instruction rows as records the trainer reads.

An SFT record is a preference record whose rejected answer repeats the chosen one; the `sft` objective
reads only the chosen side, so the trainer needs no second code path.
"""

from __future__ import annotations

from pathlib import Path

from ..data.llava_source import read_llava
from ..errors import DataError
from ..io import write_jsonl_atomic


def llava_to_records(source: Path, root: Path, target: Path, on_bad_record: str) -> Path:
    rows, bad = read_llava(source, root)
    if bad and on_bad_record == "error":
        first = bad[0]
        raise DataError(f"{source}:{first.line}: {first.message}")
    if bad:
        counts: dict[str, int] = {}
        for b in bad:
            counts[b.reason] = counts.get(b.reason, 0) + 1
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        skipped = f"skipped {len(bad)} bad row(s) ({reasons})"
        if not rows:  # else the trainer would stop at an empty sft.jsonl, a file the user never wrote
            raise DataError(f"{source}: no usable row; {skipped}")
        print(f"{source}: {skipped}")
    write_jsonl_atomic(target, ({"id": r.id, "images": [r.image], "prompt": r.question, "chosen": r.answer,
                                 "rejected": r.answer, "meta": {"source_line": r.line}} for r in rows))
    return target
