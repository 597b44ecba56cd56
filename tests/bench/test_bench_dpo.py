"""`mmalign bench dpo` runs on a tiny shape and reports positive numbers (never timed assertions)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")

from mmalign.bench.dpo import write_multi_image_pairs
from mmalign.cli.bench_dpo import main

KEYS = ("samples_per_s", "tokens_per_s", "peak_rss_mb", "final_loss", "step0_logps_chosen")


def test_multi_image_pairs_have_n_images_and_fixed_answer_length(tmp_path):
    path = write_multi_image_pairs(tmp_path, count=3, images=2, px=16, answer_tokens=16)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) == 3
    for r in rows:
        assert len(r["images"]) == 2 and all((tmp_path / p).exists() for p in r["images"])
        assert sum(c["type"] == "image" for c in r["prompt"][0]["content"]) == 2
        for side in ("chosen", "rejected"):
            assert len(r[side][0]["content"][0]["text"].split()) == 16
        assert r["chosen"] != r["rejected"]


def test_bench_dpo_tiny_json(tmp_path, capsys):
    rc = main(["--json", "--images", "1", "--steps", "2", "--batch", "2", "--hidden", "32", "--layers", "1",
               "--px", "16", "--checkpointing", "off", "--out", str(tmp_path)])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    for side in ("trl", "mmalign"):
        for key in KEYS:
            assert key in out[side]
        for key in ("samples_per_s", "tokens_per_s", "peak_rss_mb", "final_loss"):
            assert out[side][key] > 0
        assert out[side]["step0_logps_chosen"] < 0
    assert out["ratio_samples_per_s"] > 0
    assert len(out["rows"]) == 1 and out["rows"][0]["checkpointing"] is False
    assert (tmp_path / "dpo_bench.json").exists()


def test_bench_dpo_rejects_bad_flags():
    from mmalign.errors import MMAlignError

    with pytest.raises(MMAlignError):
        main(["--checkpointing", "maybe"])
    with pytest.raises(MMAlignError):
        main(["--images", "0"])
