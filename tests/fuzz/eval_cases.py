"""What the eval fuzz tests share: a benchmark case, near-miss items, the folder the files go into."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from fuzz_inputs import near_miss, write
from hypothesis import strategies as st


@dataclass
class Case:
    """A benchmark's question file (`file` under the case folder; amber's folder has two) and answers."""

    file: str
    questions: list[dict]
    answers: list[dict]
    opts: dict = field(default_factory=dict)


def _items(templates: list[dict]):
    return st.sampled_from(templates).flatmap(near_miss)


def _question_path(folder: Path, name: str, case: Case, content: bytes) -> Path:
    base = folder / name
    path = base / case.file
    path.parent.mkdir(parents=True, exist_ok=True)
    write(path, content)
    return base if name == "amber" else path


def _lines(*rows) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


