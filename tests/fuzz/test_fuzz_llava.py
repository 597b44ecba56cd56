"""Fuzzing LLaVA instruction data (a JSON list or JSON lines), as `build-data mia` (`read_llava`) and SFT
training (`llava_to_records`) read it: rows or counted bad rows, else a DataError naming the file and line;
and whatever SFT conversion writes, the trainer's record reader accepts."""

from __future__ import annotations

import pytest
from fuzz_inputs import FUZZ, data_file, expect_clean, near_miss, write
from hypothesis import example, given
from hypothesis import strategies as st

from mmalign.data.llava_source import BAD_ROW_REASONS, check_llava_file, read_llava
from mmalign.data.reader import read_records
from mmalign.errors import DataError
from mmalign.io import iter_jsonl
from mmalign.train.sft_data import llava_to_records

TEMPLATES = [
    {
        "id": "000000033471",
        "image": "coco/a.jpg",
        "conversations": [
            {"from": "human", "value": "<image>\nWhat colour is the bus?"},
            {"from": "gpt", "value": "The bus is red."},
            {"from": "human", "value": "And the car?"},
            {"from": "gpt", "value": "Blue."},
        ],
    },
    {
        "id": 7,
        "image": ["coco/b.jpg"],
        "conversations": [
            {"from": "human", "value": "How many cats?\n<image>"},
            {"from": "gpt", "value": "Two."},
        ],
    },
    {
        "id": "text-only",
        "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}],
    },
]
ROWS = st.sampled_from(TEMPLATES).flatmap(near_miss)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("llava-root")
    (root / "coco").mkdir()
    for name in ("a.jpg", "b.jpg"):
        (root / "coco" / name).write_bytes(b"not decoded here")
    return root


@FUZZ
@given(content=data_file(ROWS))
@example(content=b"\xef\xbb\xbf[]")
@example(content=b'[{"id": 1, "image": "coco/a.jpg", "conversations": [{"from": "human", "value": "\xff"}]}]')
@example(content=b'[{"id": ' + b"7" * 5000 + b"}]")
@example(content=b"[" * 5000)
@example(
    content=b'{"id": 1, "image": "coco/a.jpg", "conversations": '
    b'[{"from": "human", "value": "<image>\\ud800"}, {"from": "gpt", "value": "x"}]}'
)
@example(
    content=b'[{"id": 1, "image": "coco/a.jpg", "conversations": '
    b'[{"from": "human", "value": "<image><image>"}, {"from": "gpt", "value": "x"}]}]'
)
def test_read_llava_rows_bad_rows_or_a_clear_error(content, root):
    path = write(root / "llava.json", content)
    expect_clean(check_llava_file, path, names=path)
    result = expect_clean(read_llava, path, root, names=path)
    if isinstance(result, DataError):
        return
    rows, bad = result
    assert all(b.reason in BAD_ROW_REASONS and b.line >= 1 for b in bad)
    if not content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):  # JSON lines: every line accounted for
        assert len(rows) + len(bad) == sum(1 for _ in iter_jsonl(path))


@FUZZ
@given(content=data_file(ROWS), on_bad_record=st.sampled_from(["error", "skip"]))
@example(
    content=b'[{"id": 1, "image": "coco/a.jpg", "conversations": '
    b'[{"from": "human", "value": "<image><image>"}, {"from": "gpt", "value": "x"}]}]',
    on_bad_record="skip",
)
@example(
    content=b'[{"id": 1, "image": "coco/a.jpg", "conversations": [{"from": "human", "value": "<image>"},'
    b' {"from": "gpt", "value": "<video>"}]}]',
    on_bad_record="error",
)
@example(  # half a surrogate pair: read, then a UnicodeEncodeError writing sft.jsonl
    content=b'[{"id": 1, "image": "coco/a.jpg", "conversations": '
    b'[{"from": "human", "value": "<image>\\ud800"}, {"from": "gpt", "value": "x"}]}]',
    on_bad_record="error",
)
def test_sft_records_from_llava_are_what_the_trainer_reads(content, on_bad_record, root):
    path = write(root / "sft.json", content)
    target = root / "out" / "sft.jsonl"
    target.unlink(missing_ok=True)
    written = expect_clean(llava_to_records, path, root, target, on_bad_record, names=path)
    if isinstance(written, DataError):
        assert target.exists() is False
        return
    records, bad = read_records(written, root, "error")
    assert bad.total == 0 and all(r.images for r in records)
