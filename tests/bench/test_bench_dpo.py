"""`mmalign bench dpo` runs on a tiny shape and reports positive numbers (never timed assertions)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")

from mmalign.bench.dpo import as_separate_pairs, write_multi_image_pairs
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


def test_rejections_are_k_wrong_answers_and_expand_to_k_pairs(tmp_path):
    path = write_multi_image_pairs(tmp_path, count=2, images=1, px=16, answer_tokens=16, rejections=3)
    for r in (json.loads(line) for line in path.read_text().splitlines()):
        answers = [r["rejected"], *r["rejected_list"]]
        texts = {a[0]["content"][0]["text"] for a in answers}
        assert len(r["rejected_list"]) == 2 and len(texts) == 3
        assert all(len(t.split()) == 16 for t in texts) and r["chosen"][0]["content"][0]["text"] not in texts
        pairs = as_separate_pairs(r)
        assert [p["rejected"] for p in pairs] == answers and all("rejected_list" not in p for p in pairs)
        assert len({p["id"] for p in pairs}) == 3 and all(p["chosen"] == r["chosen"] for p in pairs)


def test_bench_dpo_rejection_sweep(tmp_path, capsys):
    rc = main(["--json", "--tiny", "--rejections", "1,2", "--out", str(tmp_path)])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["rejections"] for r in out["rows"]] == [1, 2]
    for r in out["rows"]:  # the same pairs and update: equal losses and step-0 log-probs
        assert r["final_loss_abs_diff"] < 1e-4 and r["step0_logps_abs_diff"] < 1e-4
        assert r["mmalign"]["ms_per_pair"] > 0 and r["trl"]["ms_per_pair"] > 0


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
        # per-step wall times (2 steps), and the rate after the first step's warm-up
        steps = out[side]["step_seconds"]
        assert len(steps) == 2 and all(t > 0 for t in steps)
        assert out[side]["steady_samples_per_s"] == pytest.approx(2 / steps[1], rel=1e-2)
    assert out["ratio_samples_per_s"] > 0 and out["rows"][0]["ratio_steady_samples_per_s"] > 0
    assert len(out["rows"]) == 1 and out["rows"][0]["checkpointing"] is False
    assert (tmp_path / "dpo_bench.json").exists()


def test_bench_dpo_rejects_bad_flags():
    from mmalign.errors import MMAlignError

    with pytest.raises(MMAlignError):
        main(["--checkpointing", "maybe"])
    with pytest.raises(MMAlignError):
        main(["--images", "0"])
    with pytest.raises(MMAlignError, match="multiple"):
        main(["--tiny", "--rejections", "4"])  # the tiny batch holds 2 pairs
