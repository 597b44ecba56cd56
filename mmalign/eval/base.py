"""Shared pieces of the benchmark modules: the Question record, the Benchmark entry, and annotation reading.

Annotation files come as JSON arrays (AMBER, HallusionBench, VideoHallucer, MMHal-Bench) or JSON lines
(POPE). Both are read item by item with the line each item starts on, so a problem is reported as
"file:line: problem" like every other data error in mmalign.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import DataError
from ..io import numbered_jsonl, raw_decode, read_utf8


@dataclass(frozen=True)
class Question:
    """One thing to ask a model. `media` are paths (root joined), `truth` holds what scoring needs."""

    id: str
    media: tuple[str, ...]
    prompt: str
    truth: dict[str, Any] = field(default_factory=dict)
    subset: str = ""
    media_type: str = "image"  # "image" | "video" | "none" (text-only questions, e.g. HallusionBench VS-0)


@dataclass(frozen=True)
class Benchmark:
    """A registry entry: how to read a benchmark's official files and how to score answers to them.

    `score(questions, predictions, **opts)` returns a JSON-able dict with at least "benchmark",
    "scoring" (official rule / rule-based / local judge), "overall" and "subsets". `options` names the
    keyword options `score` accepts, so the CLI can reject unknown ones with the list of valid ones.
    """

    name: str
    description: str
    read_questions: Callable[[str | Path, str | Path | None], list[Question]]
    score: Callable[..., dict]
    options: frozenset[str] = frozenset()
    headline: tuple[str, ...] = ()  # overall metrics a report shows first
    # "answer": a model answers each question (predictions are strings); "reward": a judge compares each
    # item's chosen and rejected responses (predictions are judgments, `eval.reward_judgments`).
    kind: str = "answer"


def safe_div(num: float, den: float) -> float:
    """num/den, or 0.0 for an empty denominator (the official scripts would crash there)."""
    return num / den if den else 0.0


def read_json_items(path: str | Path) -> list[tuple[int, Any]]:
    """Items of a JSON array file or a JSON-lines file, each with the line it starts on.

    A malformed file raises DataError naming the file and the line of the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    text = read_utf8(path)
    start = len(text) - len(text.lstrip())
    if text[start:start + 1] == "[":
        return _array_items(path, text, start)
    return list(numbered_jsonl(path))


def _array_items(path: Path, text: str, start: int) -> list[tuple[int, Any]]:
    # Decoding one item at a time (instead of json.loads on the whole file) is what lets us know the
    # line of every item for later messages such as "missing field".
    items: list[tuple[int, Any]] = []
    pos = start + 1
    expect_item = True
    lineno, counted_to = 1, 0  # lines counted on from the last item (recounting from 0 is quadratic)
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        lineno += text.count("\n", counted_to, pos)
        counted_to = pos
        if pos >= len(text):
            raise DataError(f"{path}:{lineno}: malformed JSON (unterminated array)")
        if text[pos] == "]" and (not expect_item or not items):
            if text[pos + 1:].strip():
                raise DataError(f"{path}:{lineno}: malformed JSON (extra data after the array)")
            return items
        if text[pos] == "," and not expect_item:
            pos += 1
            expect_item = True
            continue
        if not expect_item:
            raise DataError(f"{path}:{lineno}: malformed JSON (expected ',' or ']')")
        try:
            obj, end = raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg} at column {exc.colno})") from None
        items.append((lineno, obj))
        pos, expect_item = end, False


def require(obj: Any, keys: tuple[str, ...], where: str) -> None:
    """Raise DataError at `where` unless `obj` is an object holding every key."""
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    missing = [k for k in keys if k not in obj]
    if missing:
        raise DataError(f"{where}: missing field(s) {', '.join(repr(k) for k in missing)}")


def media_path(root: str | Path, rel: str, where: str) -> str:
    """`rel` joined under `root`; a path that is absolute or climbs out of root is a DataError."""
    rel = str(rel)
    clean = rel.removeprefix("./")
    parts = PurePosixPath(clean.replace("\\", "/")).parts
    if not clean or clean.startswith("/") or ".." in parts:
        raise DataError(f"{where}: media path {rel!r} must be relative and stay inside the root folder")
    return str(Path(root) / clean)


def default_root(data_path: str | Path, root: str | Path | None) -> Path:
    data_path = Path(data_path)
    if root is not None:
        return Path(root)
    return data_path if data_path.is_dir() else data_path.parent


def unique_ids(questions: list[Question], path: str | Path) -> list[Question]:
    """Check ids are unique (predictions are keyed by id); return the list unchanged."""
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise DataError(f"{path}: question id {q.id!r} occurs twice")
        seen.add(q.id)
    return questions


def answers_for(questions: list[Question], predictions: dict[str, str]) -> list[str]:
    """The answer to each question, in order; a question without one is a DataError."""
    missing = [q.id for q in questions if q.id not in predictions]
    if missing:
        raise DataError(
            f"no prediction for {len(missing)} question(s) (first: {missing[0]!r}); "
            "answer them all, or score with on_bad_record=skip to leave them out"
        )
    return [predictions[q.id] for q in questions]
