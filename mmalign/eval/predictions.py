"""mmalign's own predictions files: JSON lines `{"id": ..., "answer": "..."}`, read strictly, written resumably.

Written as every file that grows while a command runs (`mmalign.io.JsonlAppender`, see `mmalign/io.py`): one
line per answer, flushed as it is written; on restart `mmalign.io.resume_jsonl` drops a torn last line and
answered ids are skipped. Answer files in other layouts (LLaVA's, each official scorer's) are read by
`answer_files.read_answers`, which this module's reader is the mmalign-format case of.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

from ..errors import DataError
from ..io import JsonlAppender, resume_jsonl
from ..progress import bar, duration
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
    *,
    progress: bool = True,
    desc: str = "answer",
) -> dict[str, str]:
    """Ask `answer_fn` every question not yet answered in `path`, appending each answer as it comes.

    Returns {id: answer} for all questions (earlier answers included). Safe to call again after an
    interruption: questions go to `answer_fn` in fixed chunks of `batch_size`, and a chunk already answered
    whole is not asked again (one answered in part is asked whole, so a batched model pads it as the first
    run did, and the answers kept are those of an uninterrupted run). With `progress`, a bar counts the
    questions on a terminal (`mmalign.progress`) and one line with the count and the time is printed at the
    end.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    path = Path(path)
    done = recover_predictions(path, [q.id for q in questions])
    todo = [q for q in questions if q.id not in done]
    started = time.perf_counter()
    # fsync: answers cost a model forward each, so each flushed batch is forced to disk.
    with JsonlAppender(path, fsync=True, fault="eval-line") as out, \
            bar(total=len(questions), initial=len(questions) - len(todo), desc=desc, unit=" questions",
                enabled=progress) as shown:
        for start in range(0, len(questions), batch_size):
            batch = questions[start:start + batch_size]  # fixed chunks: padded alike in a resumed run
            if all(q.id in done for q in batch):
                continue
            answers = answer_fn(batch)
            if len(answers) != len(batch):
                raise ValueError(f"answer_fn returned {len(answers)} answers for {len(batch)} questions")
            new = [(q, str(a)) for q, a in zip(batch, answers) if q.id not in done]
            out.write_many({"id": q.id, "answer": a} for q, a in new)
            done.update((q.id, a) for q, a in new)
            shown.update(len(new))
    if progress:
        earlier = len(questions) - len(todo)
        print(f"{desc}: {len(todo)} question(s) answered in {duration(time.perf_counter() - started)}"
              + (f" ({earlier} already in {path})" if earlier else ""), flush=True)
    return {q.id: done[q.id] for q in questions}
