"""Reading preference JSONL with the project's bad-record policy (docs/data-format.md).

`on_bad_record="error"` stops at the first problem with "file:line: problem" (a DataError, which the
CLI turns into exit status 1). `on_bad_record="skip"` keeps going and counts problems per reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tqdm.auto import tqdm

from ..errors import DataError
from ..io import MalformedLine, check_data_file, iter_jsonl
from .schema import PreferenceRecord, RecordProblem, check_media, parse_record

OnBadRecord = Literal["error", "skip"]
# A check run on each parsed record after the schema and media checks (e.g. token length).
RecordCheck = Callable[[PreferenceRecord], None]


@dataclass
class BadRecords:
    """Problems found while reading, per reason, with the first few messages kept for display."""

    counts: Counter = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)

    def add(self, where: str, problem: RecordProblem) -> None:
        self.counts[problem.reason] += 1
        self.messages.append(f"{where}: {problem.message}")

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        if not self.total:
            return "no bad records"
        parts = ", ".join(f"{reason}: {n}" for reason, n in sorted(self.counts.items()))
        return f"skipped {self.total} bad record(s) ({parts})"


def iter_record_lines(path: Path):
    """Yield (line_number, parsed object or RecordProblem) for each non-blank line."""
    for lineno, value in iter_jsonl(path):
        if isinstance(value, MalformedLine):
            value = RecordProblem("malformed_json", value.message)
        yield lineno, value


def read_records(
    path: str | Path,
    root: str | Path | None = None,
    on_bad_record: OnBadRecord = "error",
    check: RecordCheck | None = None,
    collect_all: bool = False,
    progress: bool = False,
) -> tuple[list[PreferenceRecord], BadRecords]:
    """Read and check every record of a JSONL file.

    With a `root`, media paths are checked (inside root, present). `collect_all=True` reports every
    problem instead of stopping at the first one even in error mode (used by `mmalign data validate`).
    """
    path = Path(path)
    if on_bad_record not in ("error", "skip"):
        raise ValueError(f"on_bad_record must be 'error' or 'skip', got {on_bad_record!r}")
    check_data_file(path)  # not found, a folder, empty: one clear error before any line
    root_path = Path(root) if root is not None else path.parent
    records: list[PreferenceRecord] = []
    bad = BadRecords()
    # A bar, because tokenising every prompt for `check` takes minutes on a few hundred thousand records.
    lines = tqdm(iter_record_lines(path), desc=f"checking {path.name}", unit=" records", disable=not progress,
                 mininterval=1.0)
    for lineno, obj in lines:
        where = f"{path}:{lineno}"
        try:
            if isinstance(obj, RecordProblem):
                raise obj
            rec = parse_record(obj, index=lineno)
            rec.source = where
            check_media(rec, root_path)
            if check is not None:
                check(rec)
        except RecordProblem as problem:
            if on_bad_record == "error" and not collect_all:
                raise DataError(f"{where}: {problem.message}") from None
            bad.add(where, problem)
            continue
        records.append(rec)
    return records, bad
