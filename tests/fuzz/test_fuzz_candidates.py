"""Fuzzing candidate files (mmalign.data.candidates): the prompts `mmalign generate` reads (candidate files,
preference records, LLaVA rows, as JSON lines or a JSON list) and the candidate files `score` and `pairs`
read. Each file gives records, a DataError "file:line: problem", or (skip) a count for every bad line."""

from __future__ import annotations

from fuzz_inputs import FUZZ, data_file, expect_clean, jsonl_file, near_miss, write
from hypothesis import example, given
from hypothesis import strategies as st

from mmalign.data.candidates import read_candidates, read_prompts
from mmalign.data.llava_source import _iter_values
from mmalign.errors import DataError

CANDIDATE = {
    "id": "p-3",
    "images": ["img/3.png"],
    "prompt": "<image>\nDescribe the shapes.",
    "candidates": [
        {"text": "A red circle.", "model": "sft-v1", "sample": 0, "scores": {"judge-a": 7.0}},
        {"text": "A blue square.", "model": "sft-v1", "sample": 1, "scores": {"judge-a": None}},
    ],
    "reference": "A red circle.",
    "meta": {"source": "synth"},
}
PROMPTS = [
    {k: v for k, v in CANDIDATE.items() if k != "candidates"},
    {
        "id": "r-1",
        "images": ["a.png"],
        "prompt": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Colour?"}]}],
        "chosen": [{"role": "assistant", "content": "Red."}],
        "rejected": "Blue.",
    },
    {
        "id": 12,
        "image": "coco/a.jpg",
        "conversations": [
            {"from": "human", "value": "<image>\nWhat is it?"},
            {"from": "gpt", "value": "A bus."},
        ],
    },
    {"id": "t", "prompt": "Say hi.", "videos": ["v.mp4"]},
]


def _accounted(path, records, bad):
    assert all(reason and n > 0 for reason, n in bad.items())
    assert len(records) + sum(bad.values()) == sum(1 for _ in _iter_values(path))


@FUZZ
@given(content=data_file(st.sampled_from(PROMPTS).flatmap(near_miss)))
@example(content=b'{"id": "a", "prompt": "x", "reference": 5}\n')
@example(
    content=b'{"id": "a", "prompt": "x \\udc00"}\n'
)  # half a surrogate pair: generate could not write it
@example(content=b'[{"id": "a", "conversations": [{"from": "human", "value": "x"}], "image": 3}]')
def test_read_prompts(content, tmp_path_factory):
    path = write(tmp_path_factory.getbasetemp() / "prompts.jsonl", content)
    strict = expect_clean(read_prompts, path, "error", names=path)
    skipped = expect_clean(read_prompts, path, "skip", names=path)
    if isinstance(
        skipped, DataError
    ):  # a JSON list that cannot be read on (or an empty file) stops both modes
        assert isinstance(strict, DataError)
        return
    _accounted(path, *skipped)
    assert isinstance(strict, DataError) == bool(skipped[1])
    for record in skipped[0]:
        assert isinstance(record["id"], str) and "prompt" in record


@FUZZ
@given(content=jsonl_file(near_miss(CANDIDATE, max_edits=4), max_lines=5))
@example(content=b'{"id": "a", "prompt": "x", "candidates": [{"text": "t", "scores": {"j": 1e999}}]}\n')
@example(content=b'{"id": "a", "prompt": "x", "candidates": [{"text": "t", "scores": [1]}]}\n')
def test_read_candidates(content, tmp_path_factory):
    path = write(tmp_path_factory.getbasetemp() / "candidates.jsonl", content)
    strict = expect_clean(read_candidates, path, "error", names=path)
    skipped = expect_clean(read_candidates, path, "skip", names=path)
    if isinstance(skipped, DataError):
        assert isinstance(strict, DataError)
        return
    _accounted(path, *skipped)
    assert isinstance(strict, DataError) == bool(skipped[1])
    if isinstance(strict, DataError):
        assert str(strict).startswith(f"{path}:")
    for record in skipped[0]:
        assert record["candidates"] and all(isinstance(c["text"], str) for c in record["candidates"])
