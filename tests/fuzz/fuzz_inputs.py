"""Hypothesis strategies for near-miss user files, and the checks every fuzz test makes (tests/fuzz/).

A generated file starts from a valid example of its kind and is damaged the way real files are: a key
dropped, a value of the wrong type (numbers too big or negative, nested garbage, unicode, NaN), a line cut
short, a byte-order mark, stray binary bytes, CRLF line ends, blank or non-object lines, numbers with more
digits than Python converts, nesting deeper than the JSON parser goes. `expect_clean` then requires that the
reader either returns or raises an MMAlignError naming the file, and that it does so in bounded time.
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from mmalign.errors import MMAlignError

# Derandomised, no example database, bounded: the same cases on every machine and every run. A longer
# hunt: MMALIGN_FUZZ_EXAMPLES=3000 pytest tests/fuzz (derandomised too: the same cases on every run).
EXAMPLES = int(os.environ.get("MMALIGN_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    derandomize=True,
    database=None,
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
HANG_SECONDS = 10  # far above any real case (milliseconds); only a hang or a quadratic blow-up reaches it

# Strings a user file really holds when it is wrong: paths that escape, NUL bytes, placeholders in the
# wrong number, BOMs, right-to-left and astral characters, very long text.
NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "<image>",
        "<image><image>",
        "<video>",
        "<image>\nWhat is it?",
        "../escape.png",
        "/etc/passwd",
        "img\x00.png",
        "\ufeff",
        "é🙂\u202e",
        "\udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
        "a" * 5000,
        "C:\\images\\a.png",
        "img/",
        ".",
        "yes",
        "no",
        "Yes.",
        "null",
        "NaN",
        "1e999",
        "{}",
        "[]",
    ]
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**31, 2**63, -(2**63), 10**300, 10**400, -(10**400)]),
    st.floats(allow_nan=True, allow_infinity=True),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=12), NASTY_TEXT)
KEYS = st.one_of(
    st.text(max_size=6),
    st.sampled_from(
        ["id", "image", "images", "prompt", "text", "answer", "role", "content", "type", "scores", "meta", ""]
    ),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)


def _slots(value: Any, slots: list | None = None) -> list[tuple[Any, Any]]:
    """(container, key or index) of every value nested in `value`."""
    slots = [] if slots is None else slots
    if isinstance(value, dict):
        for key in list(value):
            slots.append((value, key))
            _slots(value[key], slots)
    elif isinstance(value, list):
        for i in range(len(value)):
            slots.append((value, i))
            _slots(value[i], slots)
    return slots


# One value of each JSON type, for "right field, wrong type" edits.
WRONG_TYPES = st.sampled_from([None, True, 0, -1, 10**400, 1.5, float("nan"), "", "x", [], [1], {}, {"a": 1}])


@st.composite
def near_miss(draw, template: Any, max_edits: int = 3) -> Any:
    """`template` (a valid object) with up to `max_edits` edits: a value dropped, given the wrong type,
    replaced by any JSON value, or a key added; often none, so valid objects mix with broken ones."""
    obj = copy.deepcopy(template)
    for _ in range(draw(st.integers(0, max_edits))):
        slots = _slots(obj)
        edit = draw(st.sampled_from(["drop", "retype", "retype", "replace", "add"]))
        if not slots or edit == "add":
            if isinstance(obj, dict):
                obj[draw(KEYS)] = draw(JSON_VALUES)
            continue
        container, key = draw(st.sampled_from(slots))
        if edit == "drop":
            del container[key]
        elif edit == "retype":
            container[key] = copy.deepcopy(draw(WRONG_TYPES))  # a copy: sampled values are shared objects
        else:
            container[key] = draw(JSON_VALUES)
    if draw(st.integers(0, 9)) == 0:  # now and then not an object at all
        obj = draw(JSON_VALUES)
    return obj


def dumps(obj: Any, ascii_only: bool = False) -> bytes:
    return json.dumps(obj, ensure_ascii=ascii_only).encode("utf-8")


# Lines that are not what the reader expects, beside the objects' own lines.
BAD_LINES = st.sampled_from(
    [
        b"",
        b"   ",
        b"{",
        b"}",
        b"[",
        b"]",
        b"null",
        b"42",
        b'"text"',
        b"[1, 2]",
        b'{"id": ',
        b"\x00\x01\x02",
        b"\xff\xfe{}",
        b"\xc3\x28",
        b'{"id": "\xe9"}',
        b"NaN",
        b"Infinity",
        b"-Infinity",
        b'{"a": NaN}',
        b"[" * 5000,
        b"[" * 900 + b"]" * 900,
        b'{"a":' * 3000,
        b"1" * 5000,
        b'{"id": ' + b"9" * 5000 + b"}",
        b"\xef\xbb\xbf{}",
        b"{}{}",
        b"{} trailing",
        b'"\\ud800"',
    ]
)


@st.composite
def line_damage(draw, line: bytes) -> bytes:
    """One line as a user's file may hold it: intact most often, else cut, prefixed, or with bytes in it."""
    kind = draw(st.sampled_from(["keep"] * 5 + ["cut", "bytes", "bom", "crlf", "cr"]))
    if kind == "cut" and line:
        return line[: draw(st.integers(0, len(line) - 1))]
    if kind == "bytes":
        at = draw(st.integers(0, len(line)))
        return line[:at] + draw(st.binary(min_size=1, max_size=4)) + line[at:]
    if kind == "bom":
        return b"\xef\xbb\xbf" + line
    if kind == "crlf":
        return line + b"\r"
    if kind == "cr":
        return line.replace(b",", b",\r", 1)
    return line


@st.composite
def jsonl_file(draw, objects, max_lines: int = 4, min_lines: int = 0) -> bytes:
    """A JSON-lines file: objects from `objects`, some lines damaged, some replaced by bad lines."""
    lines = []
    for obj in draw(st.lists(objects, min_size=min_lines, max_size=max_lines)):
        line = dumps(obj, draw(st.booleans()))
        lines.append(draw(BAD_LINES) if draw(st.integers(0, 7)) == 0 else draw(line_damage(line)))
    if draw(st.integers(0, 5)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(BAD_LINES))
    text = b"\n".join(lines)
    return text + b"\n" if lines and draw(st.booleans()) else text


@st.composite
def json_array_file(draw, objects, max_items: int = 4, min_items: int = 0) -> bytes:
    """A JSON file holding a list of objects (indented as `json.dump(..., indent=2)` writes them, or not),
    now and then cut short, with a BOM or binary bytes, or not a list at all."""
    items = draw(st.lists(objects, min_size=min_items, max_size=max_items))
    text = json.dumps(
        items, indent=draw(st.sampled_from([None, 2])), ensure_ascii=draw(st.booleans())
    ).encode()
    kind = draw(st.sampled_from(["keep"] * 5 + ["cut", "bytes", "bom", "trailing", "bad"]))
    if kind == "cut" and text:
        text = text[: draw(st.integers(0, len(text) - 1))]
    elif kind == "bytes":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.binary(min_size=1, max_size=4)) + text[at:]
    elif kind == "bom":
        text = b"\xef\xbb\xbf" + text
    elif kind == "trailing":
        text = text + draw(st.sampled_from([b",", b"]", b"\n{}", b" garbage", b"\n\n"]))
    elif kind == "bad":
        text = draw(BAD_LINES)
    return text


def data_file(objects, max_items: int = 4, min_items: int = 0):
    """A JSON-lines file or a JSON array file of `objects`."""
    return st.one_of(
        jsonl_file(objects, max_items, min_items), json_array_file(objects, max_items, min_items)
    )


class Hang(AssertionError):
    pass


@contextmanager
def bounded(seconds: float = HANG_SECONDS):
    """Fail (instead of waiting forever) when the body runs longer than `seconds`."""

    def _alarm(signum, frame):
        raise Hang(f"no result after {seconds} s: a hang or a quadratic blow-up")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _event(label: str) -> None:
    """Count an outcome (--hypothesis-show-statistics lists them); a no-op outside a hypothesis test."""
    try:
        event(label)
    except InvalidArgument:
        pass


def expect_clean(call, *args, names: str | Path | None = None, line: bool = False, **kwargs):
    """Run `call`; return its result, or the MMAlignError it raised (any other exception fails the test).

    `names`: a file the error message must name; `line`: ... with a line number ("file:N").
    """
    name = getattr(getattr(call, "func", call), "__name__", "call")  # functools.partial: the function's name
    try:
        with bounded():
            result = call(*args, **kwargs)
        _event(f"{name}: returned")
        return result
    except MMAlignError as exc:
        _event(f"{name}: {type(exc).__name__}")
        message = str(exc)
        assert message.strip(), "an error without a message"
        assert "Traceback" not in message
        if names is not None:
            assert str(names) in message, f"the message does not name {names}: {message}"
            if line:
                assert re.search(re.escape(str(names)) + r":\d+", message), f"no line number: {message}"
        return exc


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path
