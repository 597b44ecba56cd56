"""The training records, checked once and shared by every rank.

Every rank parses the data files (cheap, and the same everywhere: a malformed line stops all ranks with
the same file:line message). The expensive check (the processor over every prompt and image for its token
count, every video decoded) runs once, on the main process, and is cached under
`OUTPUT_DIR/data/checked-<fingerprint>.json`; the other ranks, and later runs or resumes with the same
model, data, media and settings, read the cache. A bad record found by the check stops every rank with
its file:line message (`on_bad_record: error`) or is skipped by every rank alike (`skip`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from ..data.reader import BadRecords, read_records
from ..data.schema import PreferenceRecord, RecordProblem
from ..errors import DataError
from ..io import write_json_atomic
from .precompute import file_digest, reference_fingerprint
from .ranks import main_first


@dataclass
class ParsedRecords:
    """Every file's records that parsed and whose media exist, before the (expensive) check."""

    files: list[Path]
    records: list[PreferenceRecord]
    bad: dict[Path, BadRecords]
    origin: dict[str, Path]  # record source (file:line) -> its file


def parse_training_records(files: list[Path], root: Path, on_bad_record: str) -> ParsedRecords:
    """Read the data files (schema and media presence) — before a model is loaded, so a bad record or a
    missing file is reported at once."""
    parsed = ParsedRecords(list(files), [], {}, {})
    for path in files:
        records, parsed.bad[path] = read_records(path, root, on_bad_record)
        parsed.records += records
        parsed.origin.update((r.source, path) for r in records)
    return parsed


def check_training_records(accelerator, parsed: ParsedRecords, root: Path, collator, *, model_path: str,
                           on_bad_record: str, settings: dict, cache_dir: Path, progress: bool
                           ) -> list[PreferenceRecord]:
    """The usable records (in order), with `collator.token_counts` filled for each: checked on the main
    process (or read from the cache) and shared with the others."""
    main = accelerator.is_main_process
    media = [Path(root) / p for r in parsed.records for p in r.media_paths()]
    fingerprint = reference_fingerprint(model_path, parsed.files[0], media=media, extra={
        **settings, "more_files": [file_digest(p) for p in parsed.files[1:]]})
    cache = Path(cache_dir) / f"checked-{fingerprint}.json"
    checks = main_first(accelerator, lambda: _load_or_check(cache, parsed.records, collator, on_bad_record,
                                                            progress and main),
                        then=lambda: _load(cache))
    kept = []
    for rec in parsed.records:
        problem = checks["bad"].get(rec.source)
        if problem is not None:
            parsed.bad[parsed.origin[rec.source]].add(rec.source, RecordProblem(*problem))
            continue
        collator.token_counts[rec.source] = checks["tokens"][rec.source]
        kept.append(rec)
    if checks.get("video_backend"):  # what decoded the videos, for config.yaml, even when read from the cache
        collator.backends_used.update(checks["video_backend"].split("+"))
    if main:
        for path, found in parsed.bad.items():
            if found.total:
                print(f"{path}: {found.summary()}")
    return kept


def _load(cache: Path) -> dict:
    return json.loads(cache.read_text(encoding="utf-8"))


def _load_or_check(cache: Path, records: list[PreferenceRecord], collator, on_bad_record: str,
                   progress: bool) -> dict:
    if cache.is_file():
        try:
            found = _load(cache)
            if {r.source for r in records} <= set(found["tokens"]) | set(found["bad"]):
                return found
        except (OSError, ValueError, KeyError):
            pass  # a torn or foreign file: check again
    checks = {"tokens": {}, "bad": {}}
    for rec in tqdm(records, desc="checking records", unit=" records", disable=not progress, mininterval=1.0):
        try:
            collator.check_length(rec)
        except RecordProblem as problem:
            if on_bad_record == "error":
                raise DataError(f"{rec.source}: {problem.message}") from None
            checks["bad"][rec.source] = [problem.reason, problem.message]
            continue
        checks["tokens"][rec.source] = collator.token_counts.get(rec.source, 0)
    checks["video_backend"] = collator.video_backend
    write_json_atomic(cache, checks)
    return checks
