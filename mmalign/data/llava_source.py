"""Read LLaVA-format instruction data (LLaVA-665k: a JSON list, or JSON lines) row by row, with line numbers.

A usable row has an ``id``, one ``image`` found under the root, a first ``human`` turn holding one
``<image>`` tag (and no ``<video>`` tag), and a ``gpt`` turn after it (without either tag). Only that first
question/answer pair is used (paper, mia_dpo.md §2.1). Anything else is a :class:`BadRow` with its line and
a stable reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..augment import IMAGE_TOKEN
from ..errors import DataError
from ..io import BOM, MalformedLine, check_data_file, iter_jsonl, raw_decode, read_utf8
from .schema import PLACEHOLDER, RecordProblem, resolve_media

BAD_ROW_REASONS = ("malformed_json", "not_an_object", "no_id", "duplicate_id", "no_image", "missing_image",
                   "no_human_turn", "no_image_tag", "extra_media_tag", "no_answer")


@dataclass(frozen=True)
class SourceRow:
    id: str
    image: str  # relative to the root
    question: str  # the first human turn, <image> tag included
    answer: str  # the gpt turn after it
    line: int


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str
    message: str


def _iter_json_list(text: str, path: Path) -> Iterator[tuple[int, Any]]:
    """(line, value) for each element of a top-level JSON list."""
    pos = text.index("[") + 1
    n = len(text)

    def skip(p: int) -> int:
        while p < n and text[p] in " \t\r\n":
            p += 1
        return p

    pos = skip(pos)
    if pos < n and text[pos] == "]":
        return
    # Line numbers are counted incrementally: recounting from the start for every element is quadratic
    # (hours on LLaVA-665k's 1 GB file).
    line, counted_to = 1, 0
    while True:
        line += text.count("\n", counted_to, pos)
        counted_to = pos
        try:
            value, pos = raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg}); cannot read further") from None
        yield line, value
        pos = skip(pos)
        if pos < n and text[pos] == ",":
            pos = skip(pos + 1)
            continue
        if pos < n and text[pos] == "]":
            return
        raise DataError(f"{path}:{text.count(chr(10), 0, pos) + 1}: expected ',' or ']' in the JSON list")


def _iter_values(path: Path) -> Iterator[tuple[int, Any]]:
    with open(path, "rb") as fh:
        head = fh.read(1 << 16).removeprefix(BOM.encode())
    if not head.lstrip().startswith(b"["):
        yield from _iter_lines(path)
        return
    yield from _iter_json_list(read_utf8(path), path)


def _iter_lines(path: Path) -> Iterator[tuple[int, Any]]:
    for line, value in iter_jsonl(path):  # JSON lines
        yield line, RecordProblem("malformed_json", value.message) if isinstance(value, MalformedLine) else value


def _check(value: Any, root: Path, seen: set[str]) -> tuple[str, str, str, str]:
    if isinstance(value, RecordProblem):
        raise value
    if not isinstance(value, dict):
        raise RecordProblem("not_an_object", f"a row must be a JSON object, got {type(value).__name__}")
    if value.get("id") is None:
        raise RecordProblem("no_id", "the row has no 'id'")
    rid = str(value["id"])
    if rid in seen:
        raise RecordProblem("duplicate_id", f"id {rid!r} appeared on an earlier row")
    image = value.get("image")
    if isinstance(image, list) and len(image) == 1:
        image = image[0]
    if not isinstance(image, str) or not image:
        raise RecordProblem("no_image", "the row has no single 'image' (text-only and multi-image rows are not used)")
    try:
        full = resolve_media(root, image)
    except RecordProblem as exc:
        raise RecordProblem("missing_image", exc.message) from None
    if not full.is_file():
        raise RecordProblem("missing_image", f"image {image!r} not found under {str(root)!r}")
    turns = value.get("conversations")
    turns = turns if isinstance(turns, list) else []
    first = next((i for i, t in enumerate(turns) if isinstance(t, dict) and t.get("from") == "human"), None)
    if first is None or not isinstance(turns[first].get("value"), str):
        raise RecordProblem("no_human_turn", "the row has no human turn")
    question = turns[first]["value"]
    if IMAGE_TOKEN not in question:
        raise RecordProblem("no_image_tag", f"the first human turn has no {IMAGE_TOKEN} tag")
    tags = PLACEHOLDER.findall(question)
    if len(tags) > 1:  # one image: a second tag would ask the model for an image that is not there
        raise RecordProblem("extra_media_tag", f"the first human turn has {len(tags)} <image>/<video> tags "
                                               f"for one image")
    nxt = turns[first + 1] if first + 1 < len(turns) else None
    if not isinstance(nxt, dict) or nxt.get("from") != "gpt" or not str(nxt.get("value", "")).strip():
        raise RecordProblem("no_answer", "no gpt answer follows the first human turn")
    answer = str(nxt["value"]).strip()
    if PLACEHOLDER.search(answer):
        raise RecordProblem("extra_media_tag", "the gpt answer holds an <image>/<video> tag")
    return rid, image, question, answer


def check_llava_file(path: str | Path) -> Path:
    """A DataError at once (before a model is loaded) for a missing, folder or empty file, `[]` included."""
    path = check_data_file(path, "instruction data file")
    with open(path, "rb") as fh:
        head = fh.read(1 << 16).lstrip()
    if head.startswith(b"[") and head[1:].lstrip().startswith(b"]"):
        raise DataError(f"{path}: the file is empty (no rows)")
    return path


def read_llava(path: str | Path, root: str | Path) -> tuple[list[SourceRow], list[BadRow]]:
    """Every row of a LLaVA-format file: the usable ones and the bad ones (with line and reason)."""
    path, root = Path(path), Path(root)
    check_data_file(path, "instruction data file")  # not found, a folder, empty
    rows: list[SourceRow] = []
    bad: list[BadRow] = []
    seen: set[str] = set()
    for line, value in _iter_values(path):
        try:
            rid, image, question, answer = _check(value, root, seen)
        except RecordProblem as exc:
            bad.append(BadRow(line, exc.reason, exc.message))
            continue
        seen.add(rid)
        rows.append(SourceRow(rid, image, question, answer, line))
    if not rows and not bad:
        raise DataError(f"{path}: the file is empty (no rows)")
    return rows, bad
