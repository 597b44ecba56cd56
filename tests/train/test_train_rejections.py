"""`rejections: all`: the trainer pairs chosen with every rejection; refused where it cannot apply."""

import json

import pytest
from helpers import tiny_config

from mmalign.errors import MMAlignError
from mmalign.train.trainer import train


def _with_lists(src, dst, extra: int, uneven: bool = False):
    rows = [json.loads(line) for line in src.read_text().splitlines()]
    for i, r in enumerate(rows):
        n = extra + (1 if uneven and i == 3 else 0)
        r["rejected_list"] = [rows[(i + j + 1) % len(rows)]["rejected"] for j in range(n)]
    dst.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return dst


def test_train_with_three_rejections_per_prompt(tmp_path, tiny_llava_path, synth_pairs):
    data = _with_lists(synth_pairs[0], synth_pairs[1] / "three-rej.jsonl", 2)
    train(tiny_config(tmp_path, tiny_llava_path, (data, synth_pairs[1]), rejections="all", max_steps=2))
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["loss"] == pytest.approx(0.693147, abs=1e-5)  # policy == reference at step 1
    assert rows[1]["loss"] != rows[0]["loss"]


@pytest.mark.parametrize("over", [{"loss": {"name": "aot"}}, {"precompute_ref": True}])
def test_rejections_all_refuses_what_it_cannot_spread(tmp_path, tiny_llava_path, synth_pairs, over):
    data = _with_lists(synth_pairs[0], synth_pairs[1] / "two-rej.jsonl", 1)
    with pytest.raises(MMAlignError, match="rejections: all"):
        train(tiny_config(tmp_path, tiny_llava_path, (data, synth_pairs[1]), rejections="all", **over))


def test_rejections_all_needs_the_same_count(tmp_path, tiny_llava_path, synth_pairs):
    data = _with_lists(synth_pairs[0], synth_pairs[1] / "uneven.jsonl", 1, uneven=True)
    with pytest.raises(MMAlignError, match="same number of rejections"):
        train(tiny_config(tmp_path, tiny_llava_path, (data, synth_pairs[1]), rejections="all"))
