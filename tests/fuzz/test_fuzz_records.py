"""Fuzzing preference-record JSONL (mmalign.data.reader / schema): every file ends in records, a DataError
"file:line: problem", or (on_bad_record=skip) a count per reason that accounts for every line."""

from __future__ import annotations

import io
import json

import pytest
from fuzz_inputs import FUZZ, bounded, expect_clean, jsonl_file, near_miss, write
from hypothesis import example, given
from hypothesis import strategies as st

from mmalign.data.reader import read_records
from mmalign.data.schema import PreferenceRecord, RecordProblem, parse_record
from mmalign.errors import DataError
from mmalign.io import MalformedLine, iter_jsonl

TEMPLATES = [
    {
        "id": "coco-17",
        "images": ["img/a.png"],
        "prompt": [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What colour?"}]}
        ],
        "chosen": [{"role": "assistant", "content": [{"type": "text", "text": "Red."}]}],
        "rejected": [{"role": "assistant", "content": [{"type": "text", "text": "Blue."}]}],
        "scores": {"judge": 7.5},
        "factuality": {"chosen": 1},
        "meta": {"source": "synth"},
    },
    {
        "id": "s-2",
        "image": "img/a.png",
        "prompt": "<image>\nWhat is it?",
        "chosen": "A cat.",
        "rejected": "A dog.",
        "rejected_list": ["A car.", [{"role": "assistant", "content": "A tree."}]],
        "rejected_images": ["img/b.png"],
        "rejected_prompt": "<image>\nWhat is it?",
        "scores": {"r": [1.0, 2.0]},
    },
    {
        "id": "v-1",
        "videos": ["vid/a.mp4"],
        "prompt": "<video>\nWhich way?",
        "chosen": "Left.",
        "rejected": "Right.",
        "rejected_videos": ["vid/a.mp4"],
    },
    {
        "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "chosen": "Hello.",
        "rejected": "Go away.",
    },
]
RECORDS = st.sampled_from(TEMPLATES).flatmap(near_miss)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("records-root")
    for rel in ("img/a.png", "img/b.png", "vid/a.mp4"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"not decoded by read_records")
    return root


@FUZZ
@given(obj=RECORDS)
@example(obj={"prompt": "x", "chosen": "y", "rejected": "z", "images": ["img\x00.png"]})
def test_parse_record_gives_a_record_or_a_problem(obj):
    try:
        with bounded():
            assert isinstance(parse_record(obj, index=3), PreferenceRecord)
    except RecordProblem as problem:
        assert problem.reason and problem.message


@FUZZ
@given(content=jsonl_file(RECORDS))
@example(content=b"\xef\xbb\xbf" + b'{"prompt": "a", "chosen": "b", "rejected": "c"}\n')
@example(content=b'{"prompt": "a", "chosen": "b", "rejected": "c", "id": "\xff"}\n')
@example(content=b'{"prompt": "a", "chosen": "b", "rejected": "c", "id": ' + b"9" * 5000 + b"}\n")
@example(content=b"[" * 5000)
@example(content=b'{"prompt": "<image>", "chosen": "b", "rejected": "c", "images": ["img\\u0000.png"]}\n')
@example(
    content=b'{"prompt": "<image>", "chosen": "b", "rejected": "c", "images": ["' + b"d/" * 3000 + b'"]}\n'
)
def test_read_records_error_and_skip_modes_agree(content, root):
    path = write(root / "pairs.jsonl", content)
    strict = expect_clean(read_records, path, root, "error", names=path)
    skipped = expect_clean(read_records, path, root, "skip", names=path)
    if isinstance(skipped, DataError):  # only a whole-file problem (empty) stops skip mode
        assert isinstance(strict, DataError) and str(strict) == str(skipped)
        assert "empty" in str(skipped)
        return
    records, bad = skipped
    lines = sum(1 for _ in iter_jsonl(path))
    assert len(records) + bad.total == lines  # every line is a record or a counted skip
    assert all(reason and n > 0 for reason, n in bad.counts.items())
    if bad.total:
        assert isinstance(strict, DataError)
        assert str(strict).startswith(f"{path}:"), str(strict)
        assert str(strict).split(": ", 1)[0] == bad.messages[0].split(": ", 1)[0]  # the first bad line
    else:
        assert not isinstance(strict, DataError), str(strict)
        assert [r.raw for r in strict[0]] == [r.raw for r in records]
    everything = expect_clean(read_records, path, root, "error", collect_all=True)
    assert everything[1].counts == bad.counts


@FUZZ
@given(content=jsonl_file(RECORDS, max_lines=6))
def test_iter_jsonl_reads_every_line_as_json_does(content, root):
    """mmalign.io.iter_jsonl (under every JSONL reader): one item per non-blank line, the value json gives
    for a line of UTF-8 JSON, a MalformedLine for every other line."""
    path = write(root / "lines.jsonl", content)
    with bounded():
        items = list(iter_jsonl(path))
    lines = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8", errors="surrogateescape", newline=None)
    expected = []
    for lineno, line in enumerate(lines, start=1):
        line = line.removeprefix("\ufeff") if lineno == 1 else line
        if line.strip():
            expected.append((lineno, line))
    assert [n for n, _ in items] == [n for n, _ in expected]
    for (_, value), (_, line) in zip(items, expected):
        try:
            strict = json.loads(line.encode("utf-8", "strict").decode("utf-8"))
            json.dumps(strict, ensure_ascii=False).encode("utf-8")  # no half surrogate pair
        except (UnicodeError, ValueError, RecursionError):
            assert isinstance(value, MalformedLine), line[:80]
        else:
            assert not isinstance(value, MalformedLine) and repr(value) == repr(strict)
