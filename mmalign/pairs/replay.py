"""Single-image replay records written next to MIA-DPO pairs (`build-data mia --replay N`).

A replay record is one source row, unchanged, with chosen = rejected. Its DPO term is exactly zero, so only
an NLL / SFT term of the loss (MIA-DPO's gamma term, `loss: combo` with `sft`) trains on it: it holds the
model's single-image answers in place while the pairs move its multi-image ones. This is our addition, not
the paper's recipe; docs/build-data.md says when it helps.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Sequence
from pathlib import Path

from ..data.llava_source import SourceRow
from ..io import read_jsonl, write_jsonl_atomic
from .names import safe_name

YES_NO = ("yes", "no")


def is_yes_no(answer: str) -> bool:
    """A bare "Yes." / "no" answer (the model's multi-image yes/no answers are one-sided; --open-only)."""
    return answer.strip().lower().rstrip(".!") in YES_NO


def write_replay(rows: Sequence[SourceRow], root: Path, out: Path, count: int, seed: int) -> int:
    """OUT/replay.jsonl with `count` rows drawn with `seed` (all rows if fewer), images copied to OUT/replay/.
    Kept as is when a previous run wrote as many; returns the number written."""
    path = out / "replay.jsonl"
    count = min(count, len(rows))
    if path.is_file() and len(read_jsonl(path)) == count:
        return count
    picked = random.Random(seed).sample(list(rows), count)
    (out / "replay").mkdir(parents=True, exist_ok=True)
    records = []
    for row in picked:
        rel = f"replay/{safe_name(row.id)}{Path(row.image).suffix}"
        shutil.copyfile(root / row.image, out / rel)
        records.append({"id": f"replay-{row.id}", "images": [rel], "prompt": row.question, "chosen": row.answer,
                        "rejected": row.answer, "meta": {"source_line": row.line, "replay": True}})
    write_jsonl_atomic(path, records)
    return count
