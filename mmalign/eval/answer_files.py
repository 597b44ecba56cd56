"""Reading answer files of any accepted format (`answer_formats.FORMATS`) into {question id: answer}.

A file is a JSON array, one JSON object (CHAIR's imgToEval file), or JSON lines; every record is read
with the line it starts on. The first record fixes the file's format (or `answer_format=` does). A record
of another accepted format is an error (one format per file), and so is a first record that fits none;
both name the line and list the formats accepted. Within the format, a record that lacks a field, has
the wrong type, or names an unknown or already answered question stops the run with "file:line: problem"
(on_bad_record="error") or is left out and counted per reason ("skip").
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..io import BOM, MalformedLine, iter_jsonl, loads
from .answer_formats import AnswerFormat, describe, formats_for, get_format, recognise
from .answer_ids import IdContext, Ignored, LineProblem, load_llava_questions
from .base import Question, read_json_items


@dataclass
class Answers:
    predictions: dict[str, str] = field(default_factory=dict)
    bad: Counter = field(default_factory=Counter)  # reason -> lines left out (on_bad_record="skip")
    formats: dict[str, str] = field(default_factory=dict)  # file -> format it was read as
    ignored: int = 0  # lines the official scorer leaves out too (LLaVA answers of splits not read)


class _Skip(Exception):
    pass


def file_records(path: str | Path) -> list[tuple[int, Any]]:
    """(line, record or MalformedLine) for every record of a JSON array, JSON object or JSON-lines file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: answer file not found")
    raw = path.read_bytes().removeprefix(BOM.encode())
    head = raw.lstrip()[:1]
    if head == b"[":
        return read_json_items(path)
    if head == b"{":
        try:
            whole = loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            whole = None  # several lines: JSON lines (a bad line is counted there)
        if isinstance(whole, dict):
            return [(raw[:len(raw) - len(raw.lstrip())].count(b"\n") + 1, whole)]
    return list(iter_jsonl(path))


def read_answers(
    paths: Iterable[str | Path],
    questions: list[Question] | None = None,
    *,
    benchmark: str | None = None,
    known_ids: Iterable[str] | None = None,
    on_bad_record: str = "error",
    answer_format: str | None = None,
    llava_questions: str | Path | None = None,
) -> Answers:
    """Every answer in `paths` keyed by question id (see the module docstring for the rules).

    `questions` (the benchmark's, as read from its files) let the LLaVA and official formats find the
    question each record answers; without them only records naming mmalign ids can be read.
    `llava_questions`: LLaVA's POPE question file, to match LLaVA answers as its eval_pope.py does.
    """
    if on_bad_record not in ("error", "skip"):
        raise ValueError(f"on_bad_record must be 'error' or 'skip', got {on_bad_record!r}")
    forced = get_format(answer_format) if answer_format else None
    if forced is not None and not forced.accepts(benchmark):
        raise DataError(f"answer format {forced.name!r} is not one of {benchmark}'s: {describe(benchmark)}")
    ctx = IdContext(benchmark, questions, known_ids,
                    load_llava_questions(llava_questions) if llava_questions else None)
    result = Answers()
    for path in paths:
        ctx.start_file(path)
        fmt = _read_file(Path(path), forced, ctx, on_bad_record, result)
        result.formats[str(path)] = fmt.name if fmt else "empty"
    return result


def _read_file(path: Path, forced: AnswerFormat | None, ctx: IdContext, on_bad_record: str,
               result: Answers) -> AnswerFormat | None:
    fmt = forced
    for lineno, obj in file_records(path):
        try:
            if isinstance(obj, MalformedLine):
                _bad(path, lineno, "malformed_json", obj.message, on_bad_record, result)
            if not isinstance(obj, dict):
                _bad(path, lineno, "not_object", f"expected a JSON object, got {type(obj).__name__}",
                     on_bad_record, result)
            if fmt is None:
                fmt = recognise(obj, ctx.benchmark)
                if fmt is None:
                    raise DataError(f"{path}:{lineno}: not an answer format {ctx.benchmark or 'mmalign'} reads; "
                                    f"accepted: {describe(ctx.benchmark)}")
            elif not fmt.fits(obj):
                other = None if forced else recognise(obj, ctx.benchmark)
                if other is not None:
                    raise DataError(f"{path}:{lineno}: a {other.name} record in a file of {fmt.name} records "
                                    f"(one format per file); accepted: {describe(ctx.benchmark)}")
                missing = fmt.missing(obj)
                what = f"missing field {missing[0]!r}" if missing else f"fields {', '.join(fmt.absent)} not expected"
                _bad(path, lineno, "missing_field", f"{what} ({fmt.name} format)", on_bad_record, result)
            _add(fmt, obj, lineno, ctx, path, on_bad_record, result)
        except _Skip:
            continue
    return fmt


def _add(fmt: AnswerFormat, obj: dict, lineno: int, ctx: IdContext, path: Path, on_bad_record: str,
         result: Answers) -> None:
    try:
        pairs = fmt.extract(obj, ctx, lineno)
    except LineProblem as problem:
        _bad(path, lineno, problem.reason, problem.message, on_bad_record, result)
    except Ignored:
        result.ignored += 1
        return
    # Check every pair first so that a record is taken whole or not at all.
    seen: set[str] = set()
    for qid, answer in pairs:
        if not isinstance(answer, str):
            _bad(path, lineno, "bad_type", f"{fmt.answer_field!r} must be a string, got {type(answer).__name__}",
                 on_bad_record, result)
        if ctx.known is not None and qid not in ctx.known:
            _bad(path, lineno, "unknown_id", f"unknown question id {qid!r}", on_bad_record, result)
        if qid in result.predictions or qid in seen:
            _bad(path, lineno, "duplicate_id", f"question id {qid!r} answered twice", on_bad_record, result)
        seen.add(qid)
    result.predictions.update(pairs)


def _bad(path: Path, lineno: int, reason: str, message: str, on_bad_record: str, result: Answers) -> None:
    if on_bad_record == "error":
        raise DataError(f"{path}:{lineno}: {message}")
    result.bad[reason] += 1
    raise _Skip


def accepted_formats(benchmark: str | None) -> list[str]:
    return [f.name for f in formats_for(benchmark)]
