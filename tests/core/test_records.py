"""The record schema and the bad-record policy: every problem names file and line."""

import json

import pytest

from mmalign.data import read_records
from mmalign.data.collate import PreferenceCollator
from mmalign.errors import DataError

GOOD = {
    "id": "a",
    "images": ["img.png"],
    "prompt": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What colour?"}]}],
    "chosen": [{"role": "assistant", "content": [{"type": "text", "text": "Red."}]}],
    "rejected": [{"role": "assistant", "content": [{"type": "text", "text": "Blue."}]}],
}


@pytest.fixture
def root(tmp_path):
    from PIL import Image

    Image.new("RGB", (32, 32), (200, 0, 0)).save(tmp_path / "img.png")
    return tmp_path


def write(root, rows):
    path = root / "data.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_trl_format_loads_as_is(root):
    records, bad = read_records(write(root, [GOOD]), root)
    assert bad.total == 0 and len(records) == 1
    assert records[0].images == ["img.png"] and records[0].chosen[0]["content"][0]["text"] == "Red."


def test_plain_strings_with_placeholders(root):
    rec = {"images": ["img.png"], "prompt": "<image>\nWhat colour?", "chosen": "Red.", "rejected": "Blue.",
           "custom": {"kept": True}}
    records, _ = read_records(write(root, [rec]), root)
    r = records[0]
    assert r.prompt == [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What colour?"}]}]
    assert r.raw["custom"] == {"kept": True}  # unknown fields are kept


BAD_CASES = {
    "malformed_json": '{"prompt": "x", ',
    "missing_media": {**GOOD, "images": ["nope.png"]},
    "wrong_type": {**GOOD, "images": "img.png", "chosen": 3},
    "placeholder_mismatch": {**GOOD, "images": ["img.png", "img.png"]},
    "path_escapes_root": {**GOOD, "images": ["../img.png"]},
    "missing_field": {k: v for k, v in GOOD.items() if k != "rejected"},
}


@pytest.mark.parametrize("reason", sorted(BAD_CASES))
def test_each_bad_record_names_file_and_line(root, reason):
    path = write(root, [GOOD, BAD_CASES[reason]])
    with pytest.raises(DataError) as err:
        read_records(path, root, "error")
    assert f"{path}:2:" in str(err.value)
    records, bad = read_records(path, root, "skip")
    assert len(records) == 1 and bad.counts == {reason: 1}


def test_absolute_path_refused(root):
    path = write(root, [{**GOOD, "images": [str(root / "img.png")]}])
    _, bad = read_records(path, root, "skip")
    assert bad.counts == {"path_escapes_root": 1}


def test_over_long_record_is_bad_never_truncated(root, tiny_llava):
    path = write(root, [GOOD, {**GOOD, "chosen": "red " * 40}])
    collator = PreferenceCollator(tiny_llava.processor, tiny_llava.adapter, root, max_length=40)
    with pytest.raises(DataError, match=r"data.jsonl:2: .*exceeds max_length=40"):
        read_records(path, root, "error", check=collator.check_length)
    records, bad = read_records(path, root, "skip", check=collator.check_length)
    assert len(records) == 1 and bad.counts == {"too_long": 1}
    assert "too_long: 1" in bad.summary()


def test_validate_collects_every_problem(root):
    path = write(root, [BAD_CASES["malformed_json"], GOOD, BAD_CASES["missing_media"]])
    records, bad = read_records(path, root, "error", collect_all=True)
    assert len(records) == 1 and bad.total == 2
    assert bad.messages[0].startswith(f"{path}:1:") and bad.messages[1].startswith(f"{path}:3:")
