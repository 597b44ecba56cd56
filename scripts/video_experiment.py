"""Before/after experiment: a tiny video model, supervised, then VDPO and PaMi-VDPO, on held-out synth-video.

    .venv/bin/python scripts/video_experiment.py --out runs/video-experiment [--quick] [--only-base]

Steps (results and commands are documented in docs/video_experiment.md):

1. a random tiny Qwen2-VL (the `tiny-qwen2-vl` builder), whose vision tower is first trained alone to
   classify the moving shape's shape, colour and direction (linear heads on pooled video tokens, dropped
   afterwards), as demo/vision.py does for the image demo;
2. supervised fine-tuning (`mmalign train`, `loss: sft`) on yes/no and open questions about synthetic
   clips of seed 1;
3. `mmalign eval synth-video` on a held-out suite (seed 1000) -> "before";
4. (a) VDPO: `mmalign build-data video` draws one perturbation per record (offline), `loss: vdpo`;
   (b) PaMi-VDPO: online `pair_sampler: pami_vdpo`, K = 4 candidates scored on the reference, close-to-far
   schedule; both with LoRA from the same SFT model, on the same records (clips of seed 2) and perturbations;
5. `mmalign eval synth-video` on the same suite -> "after"; OUT/results.json and OUT/results.md.
--only-base stops after step 2: OUT/sft/final is the starting model, OUT/base.json its recipe and times.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

# One core: the machine this runs on is shared (set before torch is imported).
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from video_results import loss_curve, results_markdown, sampler_summary, summary

from mmalign.cli.main import run_command as run
from mmalign.data.synth.scenes import COLOURS, SHAPES
from mmalign.data.synth.video import DIRECTIONS, render_video, sample_video_scene, write_video
from mmalign.data.synth.video_suite import VIDEO_SUBSETS, video_pair
from mmalign.demo.vision import fit_label_heads
from mmalign.errors import MMAlignError
from mmalign.io import write_json_atomic, write_jsonl_atomic, write_text_atomic

SFT_SEED, PAIR_SEED, SUITE_SEED = 1, 2, 1000  # training clips, preference clips, held-out suite: all different
FRAMES, PX = 8, 64  # what synth-video writes
# The perturbations both methods draw from: build-data video's defaults (reverse flips a direction answer,
# two shuffles scramble the order, a mirror flips left/right, a small crop can cut the shape out), so the
# two runs differ only in how the rejection is chosen (one at random vs prompt-aware close-to-far among K).
PERTURBATIONS = ("reverse", "shuffle", "segment_shuffle", "flip", "random_resized_crop")


@dataclass(frozen=True)
class Recipe:
    hidden_size: int = 64  # tiny-qwen2-vl's default decoder width
    vision_steps: int = 3000
    vision_batch: int = 32
    vision_lr: float = 2e-3
    sft_clips: int = 2000
    sft_steps: int = 4000
    sft_batch: int = 32
    sft_lr: float = 1e-3
    pair_clips: int = 300
    dpo_steps: int = 150
    dpo_batch: int = 8
    dpo_lr: float = 2e-4
    beta: float = 0.5
    lora_r: int = 16
    floor: float = 0.01  # PaMi-VDPO: candidates closer than this (JS, nats) count as false rejections
    suite_questions: int = 600  # 100 held-out clips, 6 questions each
    answer_batch: int = 64
    seed: int = 0


QUICK = Recipe(vision_steps=2, vision_batch=4, sft_clips=4, sft_steps=2, sft_batch=4, pair_clips=4, dpo_steps=2,
               dpo_batch=2, suite_questions=12, answer_batch=12)


# ------------------------------------------------------------------------------------------ data

def qa_rows(scene, rng: random.Random) -> list[tuple[str, str, str]]:
    """(question, answer, wrong answer) about one clip: the six synth-video yes/no questions (same
    wording, other clips) and three open questions (direction, colour, shape): the open answers name what
    the yes/no questions test, which gives the tiny model a direct signal for each part of the clip."""
    rows = []
    for subset in VIDEO_SUBSETS:
        basic, hallucinated = video_pair(scene, subset, rng)
        rows += [(basic, "Yes.", "No."), (hallucinated, "No.", "Yes.")]
    name = f"{scene.colour} {scene.shape}"
    wrong = rng.choice([d for d in DIRECTIONS if d != scene.direction])
    rows.append((f"Which way does the {name} move?", f"{scene.direction.capitalize()}.", f"{wrong.capitalize()}."))
    wrong = rng.choice([c for c in sorted(COLOURS) if c != scene.colour])
    rows.append((f"What colour is the moving {scene.shape}?", f"{scene.colour.capitalize()}.", f"{wrong.capitalize()}."))
    wrong = rng.choice([s for s in SHAPES if s != scene.shape])
    rows.append(("What shape is moving?", f"A {scene.shape}.", f"A {wrong}."))
    return rows


def write_video_qa(root: Path, *, seed: int, clips: int, name: str) -> Path:
    """`clips` moving-shape MP4s under root/vid and a preference JSONL of 9 questions per clip (chosen =
    the true answer, rejected = a wrong one; SFT reads only chosen, VDPO replaces the rejected side)."""
    rng = random.Random(seed)
    records = []
    for i in range(clips):
        scene = sample_video_scene(rng)
        rel = f"vid/qa-{seed}-{i}.mp4"
        write_video(root / rel, scene, frames=FRAMES, px=PX)
        for j, (question, answer, wrong) in enumerate(qa_rows(scene, rng)):
            records.append({"id": f"qa-{seed}-{i}-{j}", "videos": [rel], "prompt": f"<video>\n{question}",
                            "chosen": answer, "rejected": wrong, "meta": asdict(scene)})
    rng.shuffle(records)  # the trainer reads in a seeded order anyway; this mixes a --limit prefix too
    path = root / name
    write_jsonl_atomic(path, records)
    return path


# ------------------------------------------------------------------------------ vision pretraining

def pretrain_video_tower(model_dir: Path, out_dir: Path, *, steps: int, batch: int, lr: float,
                         seed: int = 0, log_every: int = 100) -> dict[str, float]:
    """Train the tiny Qwen2-VL's vision tower (patch embedding, blocks, merger) to classify a clip's shape,
    colour and direction from its mean-pooled video tokens; save the model to `out_dir`. Direction is
    learnable there because each temporal patch holds two consecutive frames. Returns held-out accuracies."""
    from transformers import AutoProcessor, Qwen2VLForConditionalGeneration

    torch.manual_seed(seed)
    model = Qwen2VLForConditionalGeneration.from_pretrained(model_dir)
    processor = AutoProcessor.from_pretrained(model_dir)
    visual = model.model.visual
    width = model.config.text_config.hidden_size
    colours = sorted(COLOURS)
    classes = {"shape": SHAPES, "colour": colours, "direction": DIRECTIONS}
    heads = torch.nn.ModuleDict({k: torch.nn.Linear(width, len(v)) for k, v in classes.items()})
    rng = random.Random(seed)

    def draw(n: int):
        scenes = [sample_video_scene(rng) for _ in range(n)]
        enc = processor.video_processor(videos=[render_video(s, FRAMES, PX) for s in scenes], return_tensors="pt")
        labels = {k: torch.tensor([classes[k].index(getattr(s, k)) for s in scenes]) for k in classes}
        return enc["pixel_values_videos"], enc["video_grid_thw"], labels

    def pooled(pixels, thw):
        tokens = visual(pixels, grid_thw=thw).pooler_output  # [videos x merged tokens, width]
        return tokens.view(len(thw), -1, width).mean(1)  # all clips have the same grid

    acc = fit_label_heads(visual, heads, draw, pooled, steps=steps, batch=batch, lr=lr, held_out=256,
                          log_every=log_every)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    return acc


# ------------------------------------------------------------------------------------ evaluation

def evaluate(model_dir: Path, suite: Path, out: Path, batch_size: int) -> dict:
    # Qwen2-VL's processor takes videos, so `mmalign eval` gives it the 8 frames as its video input,
    # the layout VDPO trains and perturbs.
    run(["eval", "synth-video", "--model", str(model_dir), "--data", str(suite / "questions.jsonl"),
         "--out", str(out), "--video-frames", str(FRAMES), "--max-new-tokens", "4",
         "--batch-size", str(batch_size)])
    return json.loads((out / "metrics.json").read_text())


# -------------------------------------------------------------------------------------- training

def write_config(path: Path, cfg: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, yaml.safe_dump(cfg, sort_keys=False))
    return path


def sft_config(out: Path, model: Path, data: Path, r: Recipe) -> Path:
    # The whole model trains (vision tower included), as in the image demo's SFT.
    return write_config(out / "configs" / "sft.yaml", {
        "model": str(model), "data": str(data), "root": str(data.parent), "output_dir": str(out / "sft"),
        "loss": {"name": "sft"}, "learning_rate": r.sft_lr, "warmup_steps": min(50, r.sft_steps // 10),
        "per_device_batch_size": r.sft_batch, "max_steps": r.sft_steps, "freeze_vision_tower": False,
        "video_frames": FRAMES, "max_length": 256, "seed": r.seed, "logging_steps": 10, "progress": False})


def dpo_config(out: Path, name: str, model: Path, data: Path, r: Recipe, sampler: dict | None) -> Path:
    cfg = {"model": str(model), "data": str(data), "root": str(data.parent), "output_dir": str(out / name),
           "loss": {"name": "vdpo", "beta": r.beta, "aggregation": "select"}, "learning_rate": r.dpo_lr,
           "warmup_steps": min(10, r.dpo_steps // 10), "per_device_batch_size": r.dpo_batch,
           "max_steps": r.dpo_steps, "video_frames": FRAMES, "max_length": 256, "seed": r.seed,
           "lora": {"enabled": True, "r": r.lora_r, "alpha": 2 * r.lora_r, "dropout": 0.0},
           "logging_steps": 10, "progress": False}
    if sampler:
        cfg["pair_sampler"] = sampler
    return write_config(out / "configs" / f"{name}.yaml", cfg)


class KeepSampler:
    """Keeps the pair sampler the trainer builds, to report its distances and picks afterwards (the
    trainer holds it only in memory)."""

    def __init__(self):
        from mmalign.train import run_setup as trainer

        if not hasattr(trainer, "build_pair_sampler"):
            raise MMAlignError("mmalign.train.run_setup no longer builds its pair sampler through "
                               "build_pair_sampler; update KeepSampler in scripts/video_experiment.py")
        self.trainer, self.sampler = trainer, None
        self.original = trainer.build_pair_sampler

    def __enter__(self):
        def build(*args, **kwargs):
            self.sampler = self.original(*args, **kwargs)
            return self.sampler

        self.trainer.build_pair_sampler = build
        return self

    def __exit__(self, *exc):
        self.trainer.build_pair_sampler = self.original


# ------------------------------------------------------------------------------------------- main

def _lap(times: dict[str, float], name: str, t0: float) -> None:
    times[name] = round(time.perf_counter() - t0, 1)
    print(f"[{name}: {times[name]:.0f} s]", flush=True)


def pretrain_vision(out: Path, r: Recipe, times: dict[str, float]) -> dict[str, float]:
    """Step 1: the random tiny Qwen2-VL with its vision tower pretrained, saved to OUT/vision."""
    from mmalign.models.tiny_qwen import build_tiny_qwen2_vl

    t0 = time.perf_counter()
    init = build_tiny_qwen2_vl(out / "init", hidden_size=r.hidden_size, seed=r.seed)
    vision_acc = pretrain_video_tower(init, out / "vision", steps=r.vision_steps, batch=r.vision_batch,
                                      lr=r.vision_lr, seed=r.seed)
    print(f"vision tower, held-out accuracy: {vision_acc}", flush=True)
    _lap(times, "vision_pretraining", t0)
    return vision_acc


def train_sft(out: Path, sft_data: Path, r: Recipe, times: dict[str, float]) -> Path:
    """Step 2: SFT from OUT/vision; returns OUT/sft/final, the preference runs' starting model."""
    t0 = time.perf_counter()
    run(["train", str(sft_config(out, out / "vision", sft_data, r))])
    _lap(times, "sft", t0)
    return out / "sft" / "final"


def build_base(out: Path, r: Recipe) -> Path:
    """Steps 1-2 alone (`--only-base`): the starting model other experiments reuse
    (scripts/reward_video_experiment.py). The same calls as `experiment`, minus the preference clips and the suite, which neither step
    reads (each step seeds itself), so OUT/sft/final is the model `experiment` would start from."""
    torch.set_num_threads(1)
    times: dict[str, float] = {}
    vision_acc = pretrain_vision(out, r, times)
    t0 = time.perf_counter()
    sft_data = write_video_qa(out / "sft-data", seed=SFT_SEED, clips=r.sft_clips, name="sft.jsonl")
    _lap(times, "data", t0)
    sft = train_sft(out, sft_data, r, times)
    write_json_atomic(out / "base.json", {"recipe": asdict(r), "model": str(sft), "seconds": times,
                                          "vision_pretraining_accuracy": vision_acc})
    return sft


def experiment(out: Path, r: Recipe) -> dict:
    torch.set_num_threads(1)
    started = time.perf_counter()
    times: dict[str, float] = {}

    def lap(name: str, t0: float) -> None:
        _lap(times, name, t0)

    vision_acc = pretrain_vision(out, r, times)

    t0 = time.perf_counter()
    sft_data = write_video_qa(out / "sft-data", seed=SFT_SEED, clips=r.sft_clips, name="sft.jsonl")
    pair_source = write_video_qa(out / "pair-source", seed=PAIR_SEED, clips=r.pair_clips, name="records.jsonl")
    suite = out / "suite"
    run(["eval", "synth-video", "--make-data", str(suite), "--seed", str(SUITE_SEED),
         "--count", str(r.suite_questions)])
    lap("data", t0)

    sft = train_sft(out, sft_data, r, times)

    t0 = time.perf_counter()
    before = evaluate(sft, suite, out / "eval" / "sft", r.answer_batch)
    lap("eval_sft", t0)

    # (a) VDPO: one perturbation per record, drawn at random, written once (offline pairs).
    t0 = time.perf_counter()
    pairs = out / "vdpo-pairs"
    run(["build-data", "video", "--data", str(pair_source), "--out", str(pairs), "--perturbations",
         ",".join(PERTURBATIONS), "--frames", str(FRAMES), "--seed", str(r.seed)])
    run(["train", str(dpo_config(out, "vdpo", sft, pairs / "video_pairs.jsonl", r, None))])
    lap("vdpo", t0)
    t0 = time.perf_counter()
    after_vdpo = evaluate(out / "vdpo" / "final", suite, out / "eval" / "vdpo", r.answer_batch)
    lap("eval_vdpo", t0)

    # (b) PaMi-VDPO: K = 4 candidates per record made and scored online, close-to-far selection.
    t0 = time.perf_counter()
    sampler = {"name": "pami_vdpo", "k": 4, "schedule": "linear", "floor": r.floor, "metric": "js",
               "perturbations": list(PERTURBATIONS)}
    with KeepSampler() as keep:
        run(["train", str(dpo_config(out, "pami_vdpo", sft, pair_source, r, sampler))])
    selection = sampler_summary(keep.sampler.history if keep.sampler else [], r.floor)
    lap("pami_vdpo", t0)
    t0 = time.perf_counter()
    after_pami = evaluate(out / "pami_vdpo" / "final", suite, out / "eval" / "pami_vdpo", r.answer_batch)
    lap("eval_pami_vdpo", t0)

    models = {"sft": summary(before), "vdpo": summary(after_vdpo), "pami_vdpo": summary(after_pami)}
    base = models["sft"]["overall"]["paired_accuracy"]
    res = {
        "recipe": asdict(r), "perturbations": list(PERTURBATIONS),
        "seeds": {"sft_clips": SFT_SEED, "pair_clips": PAIR_SEED, "suite": SUITE_SEED},
        "suite": {"questions": before["overall"]["n"], "clips": before["overall"]["n"] // 6},
        "vision_pretraining_accuracy": vision_acc,
        "models": models,
        "paired_accuracy_change": {m: {"before": base, "after": models[m]["overall"]["paired_accuracy"]}
                                   for m in ("vdpo", "pami_vdpo")},
        "pami_vdpo_selection": selection,
        "loss_curves": {name: loss_curve(out / name) for name in ("sft", "vdpo", "pami_vdpo")},
        "seconds": times, "wall_seconds": round(time.perf_counter() - started, 1),
        "machine": {"cpu_threads": torch.get_num_threads(), "cuda": torch.cuda.is_available()},
    }
    write_json_atomic(out / "results.json", res)
    write_text_atomic(out / "results.md", results_markdown(res, SUITE_SEED))
    print("\n" + results_markdown(res, SUITE_SEED), flush=True)
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for everything (models, data, results)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a test (well under a minute)")
    parser.add_argument("--only-base", action="store_true",
                        help="build only the starting model (steps 1-2: vision pretraining and SFT) at OUT/sft/final")
    args = parser.parse_args(argv)
    recipe = QUICK if args.quick else Recipe()
    if args.only_base:
        print(f"starting model: {build_base(args.out, recipe)}")
        return 0
    experiment(args.out, recipe)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
