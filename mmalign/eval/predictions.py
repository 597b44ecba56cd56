"""Predictions files: JSON lines `{"id": ..., "answer": "..."}`, read strictly and written resumably.

Writing follows DESIGN.md for files that grow while a command runs: one line per answer, flushed as it
is written; on restart a torn last line (no trailing newline) is dropped and answered ids are skipped.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

from ..errors import DataError
from .base import Question

OnBadRecord = Literal["error", "skip"]
# Answers a batch of questions, one string per question, in order. The generation path
# (mmalign.models.generate behind a model) and the tests' fakes both plug in here.
AnswerFn = Callable[[list[Question]], list[str]]


def read_predictions(
    path: str | Path,
    known_ids: Iterable[str] | None = None,
    on_bad_record: OnBadRecord = "error",
) -> tuple[dict[str, str], Counter]:
    """Read a predictions file into {id: answer}; ids are compared as strings.

    Problems (malformed JSON, not an object, missing or non-string field, unknown or repeated id) raise
    DataError "file:line: problem" with on_bad_record="error"; with "skip" they are counted per reason
    in the returned Counter and the line is left out.
    """
    path = Path(path)
    if on_bad_record not in ("error", "skip"):
        raise ValueError(f"on_bad_record must be 'error' or 'skip', got {on_bad_record!r}")
    if not path.is_file():
        raise DataError(f"{path}: predictions file not found")
    known = None if known_ids is None else set(known_ids)
    predictions: dict[str, str] = {}
    bad: Counter = Counter()
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            reason, message, obj = None, "", None
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                reason, message = "malformed_json", f"malformed JSON ({exc.msg} at column {exc.colno})"
            if reason is None:
                reason, message = _check_line(obj, known, predictions)
            if reason is not None:
                if on_bad_record == "error":
                    raise DataError(f"{path}:{lineno}: {message}")
                bad[reason] += 1
                continue
            predictions[str(obj["id"])] = obj["answer"]
    return predictions, bad


def _check_line(obj, known: set[str] | None, seen: dict[str, str]) -> tuple[str | None, str]:
    if not isinstance(obj, dict):
        return "not_object", f"expected a JSON object, got {type(obj).__name__}"
    for key in ("id", "answer"):
        if key not in obj:
            return "missing_field", f"missing field {key!r}"
    if not isinstance(obj["id"], (str, int)) or isinstance(obj["id"], bool):
        return "bad_type", f"'id' must be a string or an integer, got {type(obj['id']).__name__}"
    if not isinstance(obj["answer"], str):
        return "bad_type", f"'answer' must be a string, got {type(obj['answer']).__name__}"
    qid = str(obj["id"])
    if known is not None and qid not in known:
        return "unknown_id", f"unknown question id {qid!r}"
    if qid in seen:
        return "duplicate_id", f"question id {qid!r} answered twice"
    return None, ""


def recover_predictions(path: str | Path, known_ids: Iterable[str] | None = None) -> dict[str, str]:
    """Answers already in a partly written predictions file; a torn last line is cut off the file."""
    path = Path(path)
    if not path.exists():
        return {}
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        # The process died mid-line: keep everything up to the last complete line.
        keep = data.rfind(b"\n") + 1
        with open(path, "r+b") as fh:
            fh.truncate(keep)
    predictions, _ = read_predictions(path, known_ids, "error")
    return predictions


def answer_questions(
    questions: list[Question],
    answer_fn: AnswerFn,
    path: str | Path,
    batch_size: int = 8,
) -> dict[str, str]:
    """Ask `answer_fn` every question not yet answered in `path`, appending each answer as it comes.

    Returns {id: answer} for all questions (earlier answers included). Safe to call again after an
    interruption: answered questions are not asked again.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = recover_predictions(path, [q.id for q in questions])
    todo = [q for q in questions if q.id not in done]
    with open(path, "a", encoding="utf-8") as fh:
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            answers = answer_fn(batch)
            if len(answers) != len(batch):
                raise ValueError(f"answer_fn returned {len(answers)} answers for {len(batch)} questions")
            for question, answer in zip(batch, answers):
                fh.write(json.dumps({"id": question.id, "answer": str(answer)}, ensure_ascii=False) + "\n")
                done[question.id] = str(answer)
            fh.flush()
            os.fsync(fh.fileno())
    return {q.id: done[q.id] for q in questions}
