"""The video half of the reward-model accuracy target: a reward model on the video experiment's starting model.

    .venv/bin/python scripts/reward_video_experiment.py --out runs/rm-video [--base PATH] [--steps N] [--lr X]
                                                        [--pairs N] [--batch N] [--quick]

1. The starting model: the SFT model of scripts/video_experiment.py (a tiny Qwen2-VL, vision tower pretrained on
   the moving-shape clips, then supervised on questions about them), built with that script's own code
   (`build_base`, as `video_experiment.py --only-base` does) unless --base names one already built (~31 min on
   one core; --quick builds the tiny one in seconds).
2. The synthetic video world's reward pairs: `synth-reward-video` (`write_reward_video_suite`), train seed 300 and
   held-out seed 10300 (other clips than the starting model's seeds 1, 2 and 1000). Two questions per clip:
   object ("What is moving in the video?": "A red circle." vs "A blue circle.") and direction ("Which way does the
   red circle move?": "It moves left." vs "It moves right."). Chosen and rejected answers come from the same
   answer vocabulary (each colour and direction is drawn as often for the false answer as for the true one), so
   the text alone cannot tell them apart; OUT/results.json counts each side's answers to show it.
3. `mmalign train` with `head: value`, `loss: bt`, full fine-tuning with the vision tower free, 8 frames through
   Qwen2-VL's video input; held-out accuracy per question kind from the trainer's eval.json, and again from the
   saved model through the ordinary benchmark command (`mmalign eval synth-reward-video --judge reward-model:...`).
4. The control: the same run with every clip, in training and held-out data, replaced by one clip of the
   background colour (no shape, no motion). It should stay near 0.5.

OUT/results.json and OUT/results.md hold the numbers (docs/reward-models.md, "Accuracy target (video)"); the
configs are kept in OUT/configs/. One thread (OMP_NUM_THREADS=1), one process at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # the machine is shared (set before torch is imported)
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import numpy as np
import video_experiment as vx  # the starting model's recipe and builder

from mmalign.cli.main import run_command as run
from mmalign.data.synth.reward_suite import write_reward_video_suite
from mmalign.data.synth.scenes import BACKGROUND
from mmalign.data.synth.video import encode_mp4
from mmalign.io import read_jsonl, write_json_atomic, write_jsonl_atomic, write_text_atomic

TRAIN_SEED, HELDOUT_SEED = 300, 10_300
FRAMES, PX = vx.FRAMES, vx.PX  # the clips the starting model was trained on


@dataclass(frozen=True)
class Recipe:
    pairs: int = 2048  # training pairs (two per clip)
    heldout: int = 512
    steps: int = 300
    batch: int = 16
    lr: float = 1e-3
    warmup: int = 10
    seed: int = 0


QUICK = Recipe(pairs=8, heldout=8, steps=2, batch=4, warmup=0)


def suite_pairs(questions: Path) -> list[dict]:
    """synth-reward-video items as preference records (`meta.kind` = the subset, so eval.json splits by it)."""
    return [{"id": row["id"], "videos": row["videos"], "prompt": f"<video>\n{row['prompt']}",
             "chosen": row["truth"]["chosen"], "rejected": row["truth"]["rejected"], "meta": {"kind": row["subset"]}}
            for row in read_jsonl(questions)]


def write_suite(root: Path, seed: int, count: int, name: str) -> tuple[Path, Path]:
    """One suite under `root` (clips in root/vid, named by seed, so two suites share the folder): its questions
    file (for `mmalign eval`) and the same items as preference records (for `mmalign train`)."""
    questions = write_reward_video_suite(root, seed=seed, count=count, px=PX, frames=FRAMES)
    kept = questions.rename(root / f"{name}-questions.jsonl")  # the next suite writes questions.jsonl again
    records = root / f"{name}.jsonl"
    write_jsonl_atomic(records, suite_pairs(kept))
    return kept, records


def blank_videos(rows: list[dict], root: Path) -> list[dict]:
    """Copies of `rows` (records or suite items) whose every clip is ROOT/vid/blank.mp4: FRAMES frames of the
    world's background colour, no shape."""
    (root / "vid").mkdir(parents=True, exist_ok=True)
    encode_mp4(root / "vid" / "blank.mp4", np.full((FRAMES, PX, PX, 3), BACKGROUND, dtype=np.uint8))
    return [{**row, "videos": ["vid/blank.mp4"] * len(row["videos"])} for row in rows]


def _word(record: dict, side: str) -> str:
    """The word that differs between the two answers: the colour ("A red circle.") or the direction ("It moves
    left."); an object answer's shape is the same on both sides."""
    return record[side].rstrip(".").split()[-2 if record["meta"]["kind"] == "object" else -1]


def vocabulary(records: list[dict]) -> dict:
    """Per kind and answer word: how often it is chosen and how often rejected. Equal counts (up to sampling
    noise) mean an answer's text says nothing about which side it is on."""
    out: dict = {}
    for r in records:
        for side in ("chosen", "rejected"):
            out.setdefault(r["meta"]["kind"], {}).setdefault(_word(r, side), {"chosen": 0, "rejected": 0})[side] += 1
    return out


def text_only_ceiling(train: list[dict], heldout: list[dict]) -> float:
    """Held-out accuracy of a text-only rule fitted on the training pairs: prefer the answer word that was
    chosen more often, relative to rejected, in training (ties count half). Near 0.5: no text cue."""
    ratio = {(k, w): (c["chosen"] + 1) / (c["rejected"] + 1)
             for k, words in vocabulary(train).items() for w, c in words.items()}
    right = 0.0
    for r in heldout:
        a, b = (ratio.get((r["meta"]["kind"], _word(r, s)), 1.0) for s in ("chosen", "rejected"))
        right += 1.0 if a > b else 0.5 if a == b else 0.0
    return right / len(heldout)


def config(out: Path, name: str, base: Path, root: Path, r: Recipe) -> Path:
    return vx.write_config(out / "configs" / f"{name}.yaml", {
        "model": str(base), "data": str(root / "train.jsonl"), "root": str(root),
        "eval_data": str(root / "heldout.jsonl"), "output_dir": str(out / name), "head": "value",
        "loss": {"name": "bt"}, "learning_rate": r.lr, "lr_scheduler": "linear", "warmup_steps": r.warmup,
        "per_device_batch_size": r.batch, "max_steps": r.steps, "freeze_vision_tower": False,
        "video_frames": FRAMES, "max_length": 256, "seed": r.seed, "logging_steps": 10, "progress": False})


def train_and_judge(out: Path, name: str, base: Path, root: Path, r: Recipe) -> dict:
    started = time.perf_counter()
    run(["train", str(config(out, name, base, root, r))])
    seconds = round(time.perf_counter() - started, 1)
    ev = json.loads((out / name / "eval.json").read_text())
    started = time.perf_counter()
    run(["eval", "synth-reward-video", "--data", str(root / "heldout-questions.jsonl"), "--root", str(root),
         "--judge", f"reward-model:model={out / name / 'final'}", "--video-frames", str(FRAMES),
         "--out", str(out / "eval" / name)])
    bench = json.loads((out / "eval" / name / "metrics.json").read_text())
    return {"heldout_accuracy": ev["reward_accuracy"], "heldout_margin": ev.get("reward_margin"),
            "by_kind": {k: v["reward_accuracy"] for k, v in ev.get("by_kind", {}).items()},
            # the same held-out items through the benchmark command (percent there; a fraction here)
            "benchmark": {"accuracy": bench["overall"]["accuracy"] / 100,
                          "by_kind": {k: v["accuracy"] / 100 for k, v in bench["subsets"].items()}},
            "train_seconds": seconds,
            "eval_seconds": round(time.perf_counter() - started, 1)}


HEADER = "| run | held-out accuracy | object / direction | `mmalign eval synth-reward-video` | target | train seconds |"


def report(res: dict) -> str:
    r = res["recipe"]
    lines = ["# Reward model on the video experiment's starting model", "",
             (f"{r['pairs']} training pairs (seed {TRAIN_SEED}), {r['heldout']} held-out pairs "
              f"(seed {HELDOUT_SEED}), {r['steps']} steps x {r['batch']}, lr {r['lr']}, {FRAMES} frames of {PX} px."),
             "", HEADER, "|---|---|---|---|---|---|"]
    for name, target in (("video", ">= 0.85"), ("blank", "<= 0.60")):
        x = res["runs"][name]
        kinds = " / ".join(f"{x['by_kind'].get(k, float('nan')):.3f}" for k in ("object", "direction"))
        label = "videos" if name == "video" else "blanked videos (control)"
        lines.append(f"| {label} | {x['heldout_accuracy']:.3f} | {kinds} | {x['benchmark']['accuracy']:.3f} | "
                     f"{target} | {x['train_seconds']} |")
    lines += ["", (f"Text-only ceiling on the held-out pairs (answer word counts from training): "
                   f"{res['text_only_ceiling']:.3f}. Data: {res['seconds']['data']} s; whole script "
                   f"{res['seconds']['total']} s.")]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--base", type=Path, default=None,
                        help="the starting model (video_experiment.py --only-base's OUT/sft/final); "
                             "default: build it under OUT/base")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (and a tiny base): checks the plumbing")
    for key in ("steps", "pairs", "heldout", "batch", "lr", "seed"):
        parser.add_argument(f"--{key}", type=type(getattr(Recipe, key)), default=None)
    args = parser.parse_args(argv)
    recipe = QUICK if args.quick else Recipe()
    recipe = replace(recipe, **{k: v for k in asdict(recipe) if (v := getattr(args, k, None)) is not None})
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    base = args.base
    if base is None:
        t0 = time.perf_counter()
        base = vx.build_base(out / "base", vx.QUICK if args.quick else vx.Recipe())
        seconds["base"] = round(time.perf_counter() - t0, 1)

    t0 = time.perf_counter()
    data, blank = out / "data", out / "blank"
    for name, seed, count in (("train", TRAIN_SEED, recipe.pairs), ("heldout", HELDOUT_SEED, recipe.heldout)):
        questions, records = write_suite(data, seed, count, name)
        write_jsonl_atomic(blank / records.name, blank_videos(read_jsonl(records), blank))
        write_jsonl_atomic(blank / questions.name, blank_videos(read_jsonl(questions), blank))
    seconds["data"] = round(time.perf_counter() - t0, 1)
    train, heldout = read_jsonl(data / "train.jsonl"), read_jsonl(data / "heldout.jsonl")

    runs = {name: train_and_judge(out, name, base, root, recipe) for name, root in (("video", data),
                                                                                     ("blank", blank))}
    seconds["total"] = round(time.perf_counter() - started, 1)
    res = {"recipe": asdict(recipe), "base": str(base), "seeds": {"train": TRAIN_SEED, "heldout": HELDOUT_SEED},
           "frames": FRAMES, "px": PX, "runs": runs, "vocabulary": {"train": vocabulary(train),
                                                                   "heldout": vocabulary(heldout)},
           "text_only_ceiling": text_only_ceiling(train, heldout), "seconds": seconds}
    write_json_atomic(out / "results.json", res)
    write_text_atomic(out / "results.md", report(res))
    print("\n" + report(res), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
