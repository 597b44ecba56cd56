"""Judging reward-benchmark items and the judgments file (`OUT/judgments.jsonl`).

A reward-benchmark item is a Question whose truth holds the two responses, `truth["chosen"]` (preferred by
the benchmark's annotators) and `truth["rejected"]`. A judge sees them as a candidate record with the
candidates [chosen, rejected] and writes one line per item:

    {"id": ..., "chosen": 7.5, "rejected": 3.0}                 a scalar (pointwise) judge; null = no score
    {"id": ..., "chosen_first": 1.0, "chosen_second": 0.0}      a pairwise judge: P(chosen beats rejected)
                                                                when chosen is shown first / second;
                                                                0.5 = a tie verdict, null = no verdict

The file grows line by line (`mmalign.io.JsonlAppender`); a rerun drops a torn last line and judges only
the items not yet judged. The same lines, written by any tool (a reward model run elsewhere), are what
`mmalign eval BENCH --predictions judgments.jsonl` scores. A pairwise line may hold one order only
(CRBench's protocol shows the chosen response first); the missing order counts as no verdict.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..io import JsonlAppender, MalformedLine, iter_jsonl, resume_jsonl
from ..progress import bar, duration
from .base import Question

SCALAR_KEYS = ("chosen", "rejected")
PAIRWISE_KEYS = ("chosen_first", "chosen_second")


def judge_record(question: Question) -> dict:
    """The item as a candidate record: media as paths under "/" (judges resolve media under a root)."""
    kind = question.media_type
    record: dict[str, Any] = {"id": question.id, "prompt": question.prompt,
                              "candidates": [{"text": question.truth["chosen"]}, {"text": question.truth["rejected"]}]}
    if "reference" in question.truth:
        record["reference"] = question.truth["reference"]
    if question.media and kind in ("image", "video"):
        record[f"{kind}s"] = [os.path.relpath(os.path.abspath(m), "/") for m in question.media]
        record["prompt"] = f"<{kind}>\n" * len(question.media) + question.prompt
    return record


def judgment(judge, question: Question) -> dict:
    """One judgments-file line for `question` (see the module docstring)."""
    record = judge_record(question)
    if hasattr(judge, "verdicts"):
        first, second = judge.verdicts(record, 0, 1)
        line = {"id": question.id, "chosen_first": first, "chosen_second": second}
    else:
        ((chosen, rejected),) = judge.score([record])
        line = {"id": question.id, "chosen": chosen, "rejected": rejected}
    replies = getattr(judge, "replies", None)
    if replies:
        line["replies"] = replies[0]
    return line


def _number(value: Any, key: str, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DataError(f"{where}: '{key}' must be a number or null, got {value!r}")
    try:
        return float(value)
    except OverflowError:  # an integer beyond any float
        raise DataError(f"{where}: '{key}' is too large a number") from None


def check_judgment(obj: Any, where: str) -> dict:
    """A judgments line checked and normalised; raises DataError naming `where`."""
    if not isinstance(obj, dict) or "id" not in obj:
        raise DataError(f"{where}: a judgment must be an object with an 'id'")
    if any(k in obj for k in PAIRWISE_KEYS):
        out = {"id": str(obj["id"]), **{k: _number(obj.get(k), k, where) for k in PAIRWISE_KEYS}}
        bad = [k for k in PAIRWISE_KEYS if out[k] is not None and not 0 <= out[k] <= 1]
        if bad:
            raise DataError(f"{where}: '{bad[0]}' is a probability and must lie in [0, 1]")
        return out
    if all(k in obj for k in SCALAR_KEYS):
        return {"id": str(obj["id"]), **{k: _number(obj[k], k, where) for k in SCALAR_KEYS}}
    raise DataError(f"{where}: a judgment needs 'chosen' and 'rejected' scores, or 'chosen_first'/'chosen_second'")


def read_judgments(path: str | Path, known_ids: set[str] | None = None,
                   on_bad_record: str = "error") -> tuple[dict[str, dict], Counter]:
    """{id: judgment} of a judgments file; a bad line is "file:line: problem" or, with "skip", counted."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: judgments file not found")
    found: dict[str, dict] = {}
    bad: Counter = Counter()
    for lineno, obj in iter_jsonl(path):
        where = f"{path}:{lineno}"
        try:
            if isinstance(obj, MalformedLine):
                raise DataError(f"{where}: {obj.message}")
            line = check_judgment(obj, where)
            if known_ids is not None and line["id"] not in known_ids:
                raise DataError(f"{where}: unknown item id {line['id']!r}")
            if line["id"] in found:
                raise DataError(f"{where}: item {line['id']!r} judged twice")
        except DataError:
            if on_bad_record == "error":
                raise
            bad["bad_judgment_line"] += 1
            continue
        found[line["id"]] = line
    return found, bad


def judge_questions(questions: list[Question], judge, path: str | Path, progress: bool = True) -> dict[str, dict]:
    """Judge every item not yet in `path` (appending a line each); returns {id: judgment} for all items.
    With `progress`, a bar over the items on a terminal and one closing line with the time (`mmalign.progress`)."""
    path = Path(path)
    ids = {q.id for q in questions}
    resume_jsonl(path)  # cuts a torn last line
    done = read_judgments(path, ids)[0] if path.is_file() else {}
    todo = [q for q in questions if q.id not in done]
    desc = f"judge ({getattr(judge, 'name', 'judge')})"
    started = time.perf_counter()
    with JsonlAppender(path, fsync=True, fault="eval-line") as out, \
            bar(total=len(questions), initial=len(questions) - len(todo), desc=desc, unit=" items",
                enabled=progress) as shown:
        for question in todo:
            line = judgment(judge, question)
            out.write(line)
            done[question.id] = check_judgment(line, f"judge reply for {question.id!r}")
            shown.update(1)
    if progress:
        earlier = len(questions) - len(todo)
        print(f"{desc}: {len(todo)} item(s) judged in {duration(time.perf_counter() - started)}"
              + (f" ({earlier} already in {path})" if earlier else ""), flush=True)
    return done
