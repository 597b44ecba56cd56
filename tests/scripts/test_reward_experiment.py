"""scripts/reward_experiment.py: exact, seeded label noise; blanked media; --quick end to end (plain BT vs the
Secrets-II recipe, the accuracy runs and their control)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import load_script, run_quick_script
from PIL import Image

from mmalign.data.synth.scenes import BACKGROUND

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "reward_experiment.py"


def _module():
    return load_script("reward_experiment")


def _rows(n):
    return [{"id": str(i), "images": ["img/x.png"], "prompt": "<image>\\nWhat colour?", "chosen": f"c{i}",
             "rejected": f"r{i}", "meta": {"kind": "colour"}} for i in range(n)]


def test_label_noise_flips_exactly_the_share_and_marks_it():
    rx = _module()
    rows = _rows(50)
    noisy = rx.flip_labels(rows, 0.2, seed=3)
    flipped = [r for r in noisy if r["meta"]["noise_flipped"]]
    assert len(flipped) == 10 and all(r["chosen"].startswith("r") for r in flipped)
    assert all(r["chosen"].startswith("c") for r in noisy if not r["meta"]["noise_flipped"])
    assert rows[0]["chosen"] == "c0" and "noise_flipped" not in rows[0]["meta"]  # inputs untouched
    assert rx.flip_labels(rows, 0.2, seed=3) == noisy and rx.flip_labels(rows, 0.2, seed=4) != noisy


def test_blanked_media_point_at_one_shapeless_image(tmp_path):
    rx = _module()
    blank = rx.blank_media(_rows(3), tmp_path)
    assert {tuple(r["images"]) for r in blank} == {("img/blank.png",)}
    image = Image.open(tmp_path / "img" / "blank.png")
    assert image.getextrema() == tuple((v, v) for v in BACKGROUND)


def test_quick_experiment_writes_both_comparisons(tmp_path):
    out = tmp_path / "exp"
    run_quick_script("reward_experiment.py", out, timeout=300)
    res = json.loads((out / "results.json").read_text())
    (seed,) = res["noise"]
    assert 0 <= seed["bt"] <= 1 and 0 <= seed["secrets2"] <= 1 and seed["bt"] == seed["bt_trainer_eval"]
    assert seed["noise_flips"] == 3 and seed["strength_flipped"] == 3  # floor(0.2 * 16) each
    assert len(seed["members_heldout"]) == 2
    assert set(res["accuracy"]) == {"images", "blank"}
    assert "| images |" in (out / "results.md").read_text()


VIDEO_SCRIPT = SCRIPT.parent / "reward_video_experiment.py"


def test_blanked_videos_point_at_one_background_clip(tmp_path):
    from mmalign.data.video import load_clip

    rvx = load_script("reward_video_experiment")
    rows = [{"id": str(i), "videos": [f"vid/{i}.mp4"], "prompt": "<video>\nWhat is moving?", "chosen": "A red circle.",
             "rejected": "A blue circle.", "meta": {"kind": "object"}} for i in range(3)]
    blank = rvx.blank_videos(rows, tmp_path)
    assert {tuple(r["videos"]) for r in blank} == {("vid/blank.mp4",)} and rows[0]["videos"] == ["vid/0.mp4"]
    frames, _, _ = load_clip(tmp_path / "vid" / "blank.mp4", rvx.FRAMES)
    assert abs(frames.astype(float).mean(axis=(0, 1, 2)) - BACKGROUND).max() < 3  # H.264 rounds a little
    # The text-only rule: answer words chosen and rejected equally often give 0.5.
    swapped = [{**r, "chosen": r["rejected"], "rejected": r["chosen"]} for r in rows]
    assert rvx.text_only_ceiling(rows + swapped, rows + swapped) == 0.5


def test_quick_video_experiment_writes_target_and_control(tmp_path):
    out = tmp_path / "video"
    run_quick_script("reward_video_experiment.py", out, timeout=120)  # builds the tiny starting model too
    res = json.loads((out / "results.json").read_text())
    assert set(res["runs"]) == {"video", "blank"}
    for run in res["runs"].values():
        assert 0 <= run["heldout_accuracy"] <= 1 and set(run["by_kind"]) <= {"object", "direction"}
        assert run["benchmark"]["accuracy"] == run["heldout_accuracy"]  # trainer and `mmalign eval` agree
    assert res["seeds"]["train"] != res["seeds"]["heldout"]
    assert (out / "base" / "sft" / "final" / "config.json").is_file()
    assert "| videos |" in (out / "results.md").read_text()
