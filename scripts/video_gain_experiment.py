"""Video gain experiment: a starting model weak on motion questions, then PaMi-VDPO, VDPO and an NLL-only
control from it, 3 seeds each, on held-out synth-video.

    .venv/bin/python scripts/video_gain_experiment.py --out runs/video-gain [--vision PATH] [--base PATH]
                                                      [--only-base] [--quick] [--dev] [--set KEY=VALUE]

Steps (results and choices are documented in docs/video_gain.md):

1. the tiny Qwen2-VL with its vision tower pretrained on shape, colour and direction
   (scripts/video_experiment.py's step 1), or an existing one (`--vision`);
2. the starting model: SFT (`loss: sft`, vision tower frozen, so it keeps seeing motion) on the questions
   one frame answers (object yes/no, open colour, open shape) of clips of seed 1; the direction and
   temporal questions are left out, so those are weak. Built once (or reused with `--base`);
3. `mmalign eval synth-video` on a held-out suite (seed 1000) -> "before";
4. for each seed, from the same starting model, on the same records (clips of seed 2, all nine questions):
   PaMi-VDPO (online `pair_sampler: pami_vdpo`), VDPO (offline `build-data video`, one random perturbation
   per record) and NLL (`loss: sft` on the chosen answers with the original clip); same LoRA, steps, lr,
   perturbations and (for the two preference arms) loss with mDPO's anchor; the seed sets the training
   order, the LoRA init and the perturbation draws;
5. `mmalign eval synth-video` -> "after"; OUT/results.json, OUT/results.md and OUT/results.png.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

# One core: the machine this runs on is shared (set before torch is imported).
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from recipe_settings import with_settings
from video_experiment import (
    FRAMES,
    PAIR_SEED,
    SFT_SEED,
    SUITE_SEED,
    KeepSampler,
    _lap,
    dpo_config,
    evaluate,
    pretrain_vision,
    sft_config,
    write_config,
    write_video_qa,
)
from video_results import loss_curve, sampler_summary, summary

from mmalign.cli.main import run_command as run
from mmalign.data.synth.video_suite import VIDEO_SUBSETS
from mmalign.errors import MMAlignError
from mmalign.io import write_json_atomic, write_jsonl_atomic, write_text_atomic

ARMS = ("pami_vdpo", "vdpo", "nll")
LABELS = {"base": "starting model", "pami_vdpo": "PaMi-VDPO", "vdpo": "VDPO (random)", "nll": "NLL only"}
# The kinds of question write_video_qa asks, told apart by how the question starts.
KINDS = {"Is there": "object", "Does the": "direction", "Is the": "temporal", "Which way": "open_direction",
         "What colour": "colour", "What shape": "shape"}


@dataclass(frozen=True)
class Recipe:
    hidden_size: int = 64
    vision_steps: int = 3000
    vision_batch: int = 32
    vision_lr: float = 2e-3
    sft_clips: int = 2000
    # Only questions one frame answers: the starting model never sees a direction or temporal question.
    sft_kinds: tuple[str, ...] = ("object", "colour", "shape")
    # Share of the direction and temporal yes/no questions kept in SFT anyway (seeded draw), for a starting
    # model that has seen a few of them; 0 leaves them out.
    motion_keep: float = 0.0
    sft_steps: int = 2000
    sft_batch: int = 32
    sft_lr: float = 1e-3
    pair_clips: int = 600
    dpo_steps: int = 600
    dpo_batch: int = 8
    dpo_lr: float = 5e-4
    beta: float = 0.5
    # mDPO's anchor, -log s(beta r_w), on both preference arms: without it the conditional loss alone can
    # lower the chosen answer's likelihood (measured in docs/video_gain.md); 0 turns it off.
    anchor_weight: float = 1.0
    lora_r: int = 16
    # Both preference arms draw rejections from these (video_experiment used the same four plus a crop).
    perturbations: tuple[str, ...] = ("reverse", "shuffle", "segment_shuffle", "flip")
    floor: float = 0.01  # PaMi-VDPO: candidates closer than this (JS, nats) count as false rejections
    suite_questions: int = 600  # 100 held-out clips, 6 questions each
    answer_batch: int = 64
    seed: int = 0  # vision pretraining and the starting model's SFT
    seeds: tuple[int, ...] = (0, 1, 2)  # preference runs: order, LoRA init, perturbation draws
    arms: tuple[str, ...] = ("pami_vdpo", "vdpo", "nll")


DEV_SEED = 999  # a development suite for choosing settings (--dev), so the held-out one (seed 1000) is not tuned on
QUICK = Recipe(vision_steps=2, vision_batch=4, sft_clips=4, sft_steps=2, sft_batch=4, pair_clips=4, dpo_steps=2,
               dpo_batch=2, suite_questions=12, answer_batch=12, seeds=(0, 1))


def question_kind(prompt: str) -> str:
    text = prompt.split("\n", 1)[-1]
    for start, kind in KINDS.items():
        if text.startswith(start):
            return kind
    raise MMAlignError(f"unrecognised question {text!r}; known starts: {', '.join(KINDS)}")


def write_weak_sft_data(root: Path, r: Recipe) -> tuple[Path, dict[str, int]]:
    """write_video_qa's records of seed 1, keeping only the kinds in r.sft_kinds; returns counts per kind."""
    unknown = set(r.sft_kinds) - set(KINDS.values())
    if unknown:
        raise MMAlignError(f"sft_kinds: unknown {sorted(unknown)}; valid: {', '.join(KINDS.values())}")
    source = write_video_qa(root, seed=SFT_SEED, clips=r.sft_clips, name="all.jsonl")
    rows = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    if not 0.0 <= r.motion_keep <= 1.0:
        raise MMAlignError(f"motion_keep must be in [0, 1], got {r.motion_keep}")
    draw = random.Random(r.seed)
    kept = [row for row in rows if question_kind(row["prompt"]) in r.sft_kinds
            or (question_kind(row["prompt"]) in ("direction", "temporal") and draw.random() < r.motion_keep)]
    counts: dict[str, int] = {}
    for row in kept:
        counts[question_kind(row["prompt"])] = counts.get(question_kind(row["prompt"]), 0) + 1
    path = root / "sft.jsonl"
    write_jsonl_atomic(path, kept)
    return path, counts


def patch_config(path: Path, **changes) -> Path:
    """video_experiment's configs with a few keys changed (so both scripts share the rest)."""
    cfg = yaml.safe_load(path.read_text())
    cfg.update(changes)
    return write_config(path, cfg)


def build_base(out: Path, r: Recipe, vision: Path | None, times: dict[str, float]) -> dict:
    """Steps 1-2: OUT/sft/final and OUT/base.json (recipe, question counts, vision accuracy, times)."""
    vision_acc = None
    if vision is None:
        vision_acc = pretrain_vision(out, r, times)
        vision = out / "vision"
    else:
        # A folder written by this script or video_experiment.py --only-base keeps the tower's accuracy in
        # base.json one level up.
        meta = vision.parent / "base.json"
        if meta.is_file():
            vision_acc = json.loads(meta.read_text()).get("vision_pretraining_accuracy")
    t0 = time.perf_counter()
    data, counts = write_weak_sft_data(out / "sft-data", r)
    _lap(times, "sft_data", t0)
    t0 = time.perf_counter()
    cfg = patch_config(sft_config(out, vision, data, r), freeze_vision_tower=True)
    run(["train", str(cfg)])
    _lap(times, "sft", t0)
    base = {"recipe": asdict(r), "vision": str(vision), "model": str(out / "sft" / "final"),
            "sft_questions": counts, "vision_pretraining_accuracy": vision_acc, "seconds": dict(times)}
    write_json_atomic(out / "base.json", base)
    return base


def vdpo_config(out: Path, name: str, base: Path, data: Path, r: Recipe, sampler: dict | None) -> Path:
    """video_experiment's preference config with this recipe's anchor weight."""
    loss = {"name": "vdpo", "beta": r.beta, "aggregation": "select", "anchor_weight": r.anchor_weight}
    return patch_config(dpo_config(out, name, base, data, r, sampler), loss=loss)


def train_arm(out: Path, arm: str, seed: int, base: Path, records: Path, r: Recipe) -> tuple[Path, dict]:
    """One preference (or NLL) run from the starting model; returns its folder and PaMi's selection."""
    rs = replace(r, seed=seed)
    name = f"{arm}-s{seed}"
    if arm == "vdpo":
        pairs = out / f"vdpo-pairs-s{seed}"
        run(["build-data", "video", "--data", str(records), "--out", str(pairs), "--perturbations",
             ",".join(r.perturbations), "--frames", str(FRAMES), "--seed", str(seed)])
        run(["train", str(vdpo_config(out, name, base, pairs / "video_pairs.jsonl", rs, None))])
        return out / name, {}
    if arm == "nll":
        # The same run as the preference arms, with the loss replaced by NLL on the chosen answers.
        cfg = patch_config(dpo_config(out, name, base, records, rs, None), loss={"name": "sft"})
        run(["train", str(cfg)])
        return out / name, {}
    if arm == "pami_vdpo":
        sampler = {"name": "pami_vdpo", "k": 4, "schedule": "linear", "floor": r.floor, "metric": "js",
                   "perturbations": list(r.perturbations)}
        with KeepSampler() as keep:
            run(["train", str(vdpo_config(out, name, base, records, rs, sampler))])
        return out / name, sampler_summary(keep.sampler.history if keep.sampler else [], r.floor)
    raise MMAlignError(f"unknown arm {arm!r}; valid: {', '.join(ARMS)}")


def paired(s: dict) -> dict[str, float]:
    """Paired accuracy of a summary(): 'all' (mean over subsets) and each subset."""
    return {"all": s["overall"]["paired_accuracy"], **{k: v["paired_accuracy"] for k, v in s["subsets"].items()}}


def mean_over_seeds(per_seed: dict[str, dict]) -> dict:
    afters = [paired(v["after"]) for v in per_seed.values()]
    before = paired(next(iter(per_seed.values()))["before"])
    after = {k: round(sum(a[k] for a in afters) / len(afters), 2) for k in before}
    return {"before": before, "after": after, "change": {k: round(after[k] - before[k], 2) for k in before}}


def goal(arms: dict) -> dict:
    """The acceptance test: PaMi-VDPO's mean paired accuracy up >= 5 points, no subset down > 2."""
    change = arms["pami_vdpo"]["mean"]["change"]
    worst = min(change[s] for s in VIDEO_SUBSETS)
    return {"gain": change["all"], "worst_subset_change": worst, "gain_ok": change["all"] >= 5.0,
            "subsets_ok": worst >= -2.0, "met": change["all"] >= 5.0 and worst >= -2.0}


def results_markdown(res: dict) -> str:
    cols = ["all", *VIDEO_SUBSETS]
    lines = ["| model | seed | " + " | ".join(cols) + " |", "|---|---|" + "---:|" * len(cols)]
    base = paired(res["base"]["metrics"])
    lines.append(f"| {LABELS['base']} | - | " + " | ".join(f"{base[c]:.1f}" for c in cols) + " |")
    for arm, a in res["arms"].items():
        for seed, v in a["seeds"].items():
            p = paired(v["after"])
            lines.append(f"| {LABELS[arm]} | {seed} | " + " | ".join(f"{p[c]:.1f}" for c in cols) + " |")
        m = a["mean"]
        lines.append(f"| **{LABELS[arm]}** | mean | " + " | ".join(
            f"**{m['after'][c]:.1f}** ({m['change'][c]:+.1f})" for c in cols) + " |")
    g = res["goal"]
    suite = (f"Paired accuracy on synth-video ({res['suite']['questions']} questions, {res['suite']['clips']} "
             f"clips, seed {res['clip_seeds']['suite']}); 'all' is the mean over subsets; mean rows show the "
             "change from the starting model.")
    lines += ["", suite, f"Wall time {res['wall_seconds'] / 60:.1f} min."]
    if g["met"] is not None:
        lines.append(f"Goal (PaMi-VDPO mean gain >= 5, no subset down > 2): gain {g['gain']:+.1f}, worst "
                     f"subset {g['worst_subset_change']:+.1f} -> {'met' if g['met'] else 'not met'}.")
    return "\n".join(lines) + "\n"


def plot(res: dict, path: Path) -> None:
    """Bars: paired accuracy per subset for the starting model and each arm's mean; dots: single seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = ["all", *VIDEO_SUBSETS]
    names = ["base", *res["arms"]]
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, name in enumerate(names):
        xs = [j + (i - (len(names) - 1) / 2) * width for j in range(len(cols))]
        if name == "base":
            heights, seeds = paired(res["base"]["metrics"]), []
        else:
            heights = res["arms"][name]["mean"]["after"]
            seeds = [paired(v["after"]) for v in res["arms"][name]["seeds"].values()]
        ax.bar(xs, [heights[c] for c in cols], width, label=LABELS[name] + ("" if name == "base" else " (mean)"))
        for p in seeds:
            ax.scatter(xs, [p[c] for c in cols], s=8, color="black", zorder=3)
    ax.set_xticks(range(len(cols)), cols)
    ax.set_ylabel("paired accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title("held-out synth-video: starting model (before) and after each arm; dots = seeds")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def experiment(out: Path, r: Recipe, vision: Path | None, base_model: Path | None,
               suite_seed: int = SUITE_SEED) -> dict:
    torch.set_num_threads(1)
    started = time.perf_counter()
    times: dict[str, float] = {}
    if base_model is None:
        base = build_base(out, r, vision, times)
        base_model = Path(base["model"])
    else:
        meta = base_model.parent.parent / "base.json"
        base = json.loads(meta.read_text()) if meta.is_file() else {}
        base["model"] = str(base_model)

    t0 = time.perf_counter()
    records = write_video_qa(out / "pair-source", seed=PAIR_SEED, clips=r.pair_clips, name="records.jsonl")
    suite = out / "suite"
    run(["eval", "synth-video", "--make-data", str(suite), "--seed", str(suite_seed),
         "--count", str(r.suite_questions)])
    _lap(times, "data", t0)
    t0 = time.perf_counter()
    before = evaluate(base_model, suite, out / "eval" / "base", r.answer_batch)
    _lap(times, "eval_base", t0)

    arms: dict[str, dict] = {}
    for arm in r.arms:
        per_seed: dict[str, dict] = {}
        for seed in r.seeds:
            t0 = time.perf_counter()
            run_dir, selection = train_arm(out, arm, seed, base_model, records, r)
            train_s = round(time.perf_counter() - t0, 1)
            after = evaluate(run_dir / "final", suite, out / "eval" / run_dir.name, r.answer_batch)
            per_seed[str(seed)] = {"before": summary(before), "after": summary(after), "train_seconds": train_s,
                                   "loss_curve": loss_curve(run_dir), "selection": selection}
            _lap(times, run_dir.name, t0)
        arms[arm] = {"seeds": per_seed, "mean": mean_over_seeds(per_seed)}

    res = {"recipe": asdict(r),
           "clip_seeds": {"sft_clips": SFT_SEED, "pair_clips": PAIR_SEED, "suite": suite_seed},
           "suite": {"questions": before["overall"]["n"], "clips": before["overall"]["n"] // 6},
           "base": {**{k: base.get(k) for k in ("model", "vision", "sft_questions", "vision_pretraining_accuracy")},
                    "metrics": summary(before), "sft_loss_curve": loss_curve(base_model.parent)},
           "arms": arms, "seconds": {**base.get("seconds", {}), **times},
           "wall_seconds": round(time.perf_counter() - started, 1),
           "machine": {"cpu_threads": torch.get_num_threads(), "cuda": torch.cuda.is_available()}}
    res["goal"] = goal(arms) if "pami_vdpo" in arms else {"met": None}
    write_json_atomic(out / "results.json", res)
    write_text_atomic(out / "results.md", results_markdown(res))
    plot(res, out / "results.png")
    print("\n" + results_markdown(res), flush=True)
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for everything (models, data, results)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a test (about a minute)")
    parser.add_argument("--vision", type=Path, help="reuse a vision-pretrained model (OUT/vision of this script "
                        "or of video_experiment.py) instead of pretraining the tower again (~6 min)")
    parser.add_argument("--base", type=Path, help="reuse a starting model (OUT/sft/final of an earlier run)")
    parser.add_argument("--only-base", action="store_true", help="build only the starting model (steps 1-2)")
    parser.add_argument("--dev", action="store_true", help=f"evaluate on a development suite (seed {DEV_SEED}) "
                        f"instead of the held-out one (seed {SUITE_SEED}): for choosing settings")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="change one recipe field, e.g. --set dpo_steps=300 --set seeds=0 (repeatable)")
    args = parser.parse_args(argv)
    for flag, path in (("--vision", args.vision), ("--base", args.base)):
        if path is not None and not (path / "config.json").is_file():
            raise SystemExit(f"{flag} {path}: not a saved model folder (no config.json)")
    if args.base and (args.vision or args.only_base):
        raise SystemExit("--base reuses a finished starting model; it cannot go with --vision or --only-base")
    try:
        recipe = with_settings(QUICK if args.quick else Recipe(), args.set)
    except MMAlignError as exc:
        raise SystemExit(str(exc)) from exc
    if not recipe.arms or set(recipe.arms) - set(ARMS):
        raise SystemExit(f"--set arms={','.join(recipe.arms)}: choose from {', '.join(ARMS)}")
    from mmalign.augment.video import PERTURBATIONS

    if not recipe.perturbations or set(recipe.perturbations) - set(PERTURBATIONS):
        raise SystemExit(f"--set perturbations={','.join(recipe.perturbations)}: choose from {', '.join(PERTURBATIONS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only_base:
        torch.set_num_threads(1)
        print(f"starting model: {build_base(args.out, recipe, args.vision, {})['model']}")
        return 0
    experiment(args.out, recipe, args.vision, args.base, DEV_SEED if args.dev else SUITE_SEED)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
