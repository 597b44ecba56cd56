"""mmalign's own predictions files: JSON lines `{"id": ..., "answer": "..."}`, read strictly, written resumably.

Writing follows DESIGN.md for files that grow while a command runs (`mmalign.io.JsonlAppender`): one line
per answer, flushed as it is written; on restart `mmalign.io.resume_jsonl` drops a torn last line and
answered ids are skipped. Answer files in other layouts (LLaVA's, each official scorer's) are read by
`answer_files.read_answers`, which this module's reader is the mmalign-format case of.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

from ..errors import DataError
from ..io import JsonlAppender, resume_jsonl
from .answer_files import read_answers
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
    """Read an mmalign predictions file into {id: answer}; ids are compared as strings.

    Problems (malformed JSON, not an object, missing or non-string field, unknown or repeated id) raise
    DataError "file:line: problem" with on_bad_record="error"; with "skip" they are counted per reason
    in the returned Counter and the line is left out.
    """
    if not Path(path).is_file():
        raise DataError(f"{path}: predictions file not found")
    result = read_answers([path], known_ids=known_ids, on_bad_record=on_bad_record, answer_format="mmalign")
    return result.predictions, result.bad


def recover_predictions(path: str | Path, known_ids: Iterable[str] | None = None) -> dict[str, str]:
    """Answers already in a partly written predictions file; a torn last line is cut off the file."""
    path = Path(path)
    if not path.exists():
        return {}
    resume_jsonl(path)  # cuts a torn last line; any other malformed line is an error naming it
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
    done = recover_predictions(path, [q.id for q in questions])
    todo = [q for q in questions if q.id not in done]
    # fsync: answers cost a model forward each, so each flushed batch is forced to disk.
    with JsonlAppender(path, fsync=True) as out:
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            answers = answer_fn(batch)
            if len(answers) != len(batch):
                raise ValueError(f"answer_fn returned {len(answers)} answers for {len(batch)} questions")
            out.write_many({"id": q.id, "answer": str(a)} for q, a in zip(batch, answers))
            done.update((q.id, str(a)) for q, a in zip(batch, answers))
    return {q.id: done[q.id] for q in questions}
