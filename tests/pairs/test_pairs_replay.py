"""`build-data mia --open-only` and `--replay N`, and the trainer's `extra_data` that trains the replay rows."""

from __future__ import annotations

import json

import pytest

from mmalign.cli.build_data import main
from mmalign.data.llava_source import read_llava
from mmalign.data.synth import write_llava_instructions
from mmalign.pairs.replay import is_yes_no

ARGS = ["--cell", "64", "--margin", "8", "--max-new-tokens", "6", "--batch-size", "4", "--no-progress", "--seed", "2"]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp("replay-src")
    return write_llava_instructions(root, seed=5, count=14), root


@pytest.fixture(scope="module")
def built(source, tiny_llava_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("replay-out")
    path, root = source
    assert main(["mia", "--data", str(path), "--root", str(root), "--model", str(tiny_llava_path), "--out", str(out),
                 "--open-only", "--replay", "5", *ARGS]) == 0
    return out


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


@pytest.mark.parametrize("answer, expected", [("Yes.", True), ("no", True), (" NO! ", True), ("A yes-man.", False),
                                              ("Red.", False), ("Nope.", False)])
def test_is_yes_no(answer, expected):
    assert is_yes_no(answer) is expected


def test_open_only_skips_yes_no_rows_and_counts_them(built, source):
    rows, _ = read_llava(*source)
    yes_no = sum(is_yes_no(r.answer) for r in rows)
    assert 0 < yes_no < len(rows)  # the fixture has both kinds
    summary = json.loads((built / "summary.json").read_text())
    assert summary["dropped"]["yes_no_answer"] == yes_no
    assert all(not is_yes_no(p["chosen"][0]["content"][0]["text"]) for p in _lines(built / "pairs.jsonl"))


def test_replay_rows_are_source_rows_with_chosen_equal_rejected(built, source):
    rows, _ = read_llava(*source)
    by_id = {f"replay-{r.id}": r for r in rows}
    replay = _lines(built / "replay.jsonl")
    assert len(replay) == 5 == json.loads((built / "summary.json").read_text())["replay"]
    for rec in replay:
        row = by_id[rec["id"]]
        assert rec["prompt"] == row.question and rec["chosen"] == rec["rejected"] == row.answer
        assert (built / rec["images"][0]).read_bytes() == (source[1] / row.image).read_bytes()


def test_replay_is_capped_at_the_usable_rows(source, tiny_llava_path, tmp_path):
    path, root = source
    assert main(["mia", "--data", str(path), "--root", str(root), "--model", str(tiny_llava_path),
                 "--out", str(tmp_path), "--replay", "99", "--limit", "1", *ARGS]) == 0
    assert len(_lines(tmp_path / "replay.jsonl")) == 14


def test_extra_data_trains_with_data(built, tiny_llava_path, tmp_path):
    from helpers import tiny_config

    from mmalign.train.trainer import train

    pairs, replay = len(_lines(built / "pairs.jsonl")), len(_lines(built / "replay.jsonl"))
    epochs = {}
    for name, extra in (("alone", []), ("mixed", [str(built / "replay.jsonl")])):
        loss = {"name": "combo", "terms": [{"name": "sigmoid", "beta": 0.1}, {"name": "sft", "weight": 1.0}]}
        cfg = tiny_config(tmp_path / name, tiny_llava_path, (built / "pairs.jsonl", built), max_steps=1,
                          max_length=512, per_device_batch_size=2, extra_data=extra, loss=loss)
        train(cfg)
        epochs[name] = _lines(tmp_path / name / "run" / "metrics.jsonl")[-1]["epoch"]
    # One step is 1 / (full batches of 2 in the records) of an epoch.
    assert epochs["alone"] == pytest.approx(1 / (pairs // 2), abs=1e-4)
    assert epochs["mixed"] == pytest.approx(1 / ((pairs + replay) // 2), abs=1e-4)


def test_extra_data_errors_name_the_file(built, tiny_llava_path, tmp_path):
    from helpers import tiny_config

    from mmalign.errors import ConfigError, DataError
    from mmalign.train.trainer import train

    with pytest.raises(ConfigError, match="extra_data: .*nothing.jsonl: no such file"):
        train(tiny_config(tmp_path / "a", tiny_llava_path, (built / "pairs.jsonl", built), max_length=512,
                          extra_data=[str(tmp_path / "nothing.jsonl")]))
    bad = tmp_path / "bad.jsonl"
    bad.write_text((built / "replay.jsonl").read_text().splitlines()[0] + "\n{not json\n")
    with pytest.raises(DataError, match=r"bad\.jsonl:2"):
        train(tiny_config(tmp_path / "b", tiny_llava_path, (built / "pairs.jsonl", built), max_length=512,
                          extra_data=[str(bad)]))
