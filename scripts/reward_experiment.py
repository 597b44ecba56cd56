"""Reward-model measurements (ensembles, Secrets of RLHF II, accuracy targets) on the demo's shipped tiny
LLaVA (assets/demo/reader-llava).

    .venv/bin/python scripts/reward_experiment.py --out runs/rm-experiment [--part noise|accuracy|all]
                                                  [--seeds 0 1 2] [--ablations] [--quick]

noise (per seed): synthetic image pairs with 20% of the labels flipped at random (exactly floor(0.2 N) pairs,
`meta.noise_flipped` marks them), a clean held-out set of other scenes; then
  (a) plain BT: `mmalign train configs/tiny/reward_ensemble_llava.yaml` on the noisy pairs;
  (b) Secrets II: `mmalign reward-ensemble` (M = 4, seeds s..s+3, complementary halves) on the same pairs ->
      `mmalign train configs/tiny/reward_secrets2_llava.yaml` (preference_strength: flip the weakest 20%;
      bt_margin: the mean strength as an adaptive margin);
  both scored on the clean held-out pairs. Also: how many of the pairs the strength flipped were noise flips.
  --ablations adds, on the same data and ensemble: BT on the clean pairs, flip only (bt), margin only (no flip),
  soft label + margin (label_smoothing 0.1), and the SimCSE contrastive term (weight 0.1) with BT and with (b).
  A rerun with the same commands reuses finished runs (FOLDER/experiment_command.json).
accuracy: the same config on 2,048 clean pairs (held-out accuracy, target >= 0.90), and the same run with every
image replaced by one blank image in training and held-out data (a control, target <= 0.60). Chosen and
rejected answers come from the same answer vocabulary (the synthetic world's), so text alone cannot tell them.

Every step is an ordinary mmalign command, printed before it runs. OUT/results.json and OUT/results.md hold the
numbers (docs/reward-models.md, "Measurements"). One thread (OMP_NUM_THREADS=1), one process at a time.
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

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # the machine is shared (set before torch is imported)
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PIL import Image

from mmalign.cli.main import run_command as run
from mmalign.data.reader import read_records
from mmalign.data.synth import write_preference_pairs
from mmalign.data.synth.scenes import BACKGROUND
from mmalign.data.transforms import swap_pair
from mmalign.io import read_jsonl, write_json_atomic, write_jsonl_atomic, write_text_atomic
from mmalign.judge import load_reward
from mmalign.train.ensemble_scores import candidate_record

MEMBER_CONFIG = REPO / "configs" / "tiny" / "reward_ensemble_llava.yaml"
SECRETS_CONFIG = REPO / "configs" / "tiny" / "reward_secrets2_llava.yaml"
MODEL = REPO / "assets" / "demo" / "reader-llava"


@dataclass(frozen=True)
class Recipe:
    pairs: int = 1024  # noisy training pairs per seed
    heldout: int = 512  # clean held-out pairs
    noise: float = 0.2  # share of training labels flipped at random
    members: int = 4
    flip_fraction: float = 0.2  # the transform's flip share (Secrets II: the weakest 20%)
    label_smoothing: float = 0.0  # bt_margin's soft labels on pairs still below 0 after flipping
    epochs: int = 3
    batch: int = 16
    accuracy_pairs: int = 2048
    accuracy_steps: int = 200


QUICK = Recipe(pairs=16, heldout=8, members=2, epochs=1, batch=4, accuracy_pairs=16, accuracy_steps=2)


def flip_labels(rows: list[dict], fraction: float, seed: int) -> list[dict]:
    """Copies of `rows` with exactly floor(fraction * N) pairs (a seeded random choice) swapped;
    `meta.noise_flipped` says which."""
    n_flip = int(fraction * len(rows) + 1e-9)
    flipped = set(random.Random(f"reward-noise-{seed}").sample(range(len(rows)), n_flip))
    out = []
    for i, row in enumerate(rows):
        row = json.loads(json.dumps(row))
        if i in flipped:
            swap_pair(row)
        row["meta"] = {**(row.get("meta") or {}), "noise_flipped": i in flipped}
        out.append(row)
    return out


def blank_media(rows: list[dict], root: Path) -> list[dict]:
    """Copies of `rows` whose every image is ROOT/img/blank.png (the world's background colour, no shape)."""
    (root / "img").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 32), BACKGROUND).save(root / "img" / "blank.png")
    return [{**row, "images": ["img/blank.png"] * len(row.get("images") or [])} for row in rows]


def _eval(run_dir: Path) -> dict:
    return json.loads((run_dir / "eval.json").read_text())


def judged_accuracy(final: Path, heldout: Path, root: Path) -> float:
    """Held-out accuracy of a saved reward model through `load_reward` (the trainer's own eval.json gives the
    same number, but skips every record without meta.preference_strength when the loss is bt_margin)."""
    records, _ = read_records(heldout, root)
    scores = load_reward(final, root=root).score([candidate_record(r) for r in records])
    return sum(c > r for c, r in scores) / len(scores)


def _common(recipe: Recipe, seed: int, data: Path, root: Path, heldout: Path) -> list[str]:
    return [f"model={MODEL}", f"data={data}", f"root={root}", f"eval_data={heldout}", f"seed={seed}",
            f"num_epochs={recipe.epochs}", f"per_device_batch_size={recipe.batch}", "progress=false"]


def timed(argv: list[str], folder: Path) -> float:
    """Run one mmalign command whose results land in `folder`; seconds taken. A rerun with the same command
    reuses a finished folder (FOLDER/experiment_command.json) instead of running it again."""
    stamp = folder / "experiment_command.json"
    if stamp.is_file() and json.loads(stamp.read_text())["argv"] == argv:
        print(f"\n(reusing {folder}: same command as before)")
        return json.loads(stamp.read_text())["seconds"]
    started = time.perf_counter()
    run(argv)
    seconds = round(time.perf_counter() - started, 1)
    write_json_atomic(stamp, {"argv": argv, "seconds": seconds})
    return seconds


def _secrets(recipe: Recipe, flip_fraction: float | None = None, loss: str = "") -> list[str]:
    flip = recipe.flip_fraction if flip_fraction is None else flip_fraction
    return [f"transforms=[{{name: preference_strength, flip_fraction: {flip}}}]", "eval_data=",
            *([loss] if loss else [f"loss.label_smoothing={recipe.label_smoothing}"])]


# Ablations (--ablations): (config, data: clean | noisy | scored, extra overrides). They share each seed's data
# and ensemble; every run is scored on the same clean held-out pairs.
CONTRASTIVE = "loss.contrastive_weight=0.1"
ABLATIONS = {
    "bt_clean": ("member", "clean", lambda r: []),  # the ceiling: the same pairs without noise
    "flip_only": ("secrets", "scored", lambda r: _secrets(r, loss="loss={name: bt}")),
    "margin_only": ("secrets", "scored", lambda r: _secrets(r, flip_fraction=0.0)),
    "soft_label_margin": ("secrets", "scored", lambda r: _secrets(r, loss="loss.label_smoothing=0.1")),
    "bt_contrastive": ("member", "noisy", lambda r: [CONTRASTIVE]),
    "secrets2_contrastive": ("secrets", "scored", lambda r: [*_secrets(r), CONTRASTIVE]),
}


def noise_seed(out: Path, seed: int, recipe: Recipe, ablations: bool = False) -> dict:
    """Plain BT against the Secrets-II recipe on one seed's noisy pairs (see the module docstring)."""
    folder = out / f"noise-seed{seed}"
    data = folder / "data"
    files = {"clean": write_preference_pairs(data, seed=100 + seed, count=recipe.pairs, name="clean.jsonl"),
             "noisy": data / "train.jsonl", "scored": folder / "ensemble" / "scored.jsonl"}
    heldout = write_preference_pairs(data, seed=10_100 + seed, count=recipe.heldout, name="heldout.jsonl")
    write_jsonl_atomic(files["noisy"], flip_labels(read_jsonl(files["clean"]), recipe.noise, seed))
    configs = {"member": str(MEMBER_CONFIG), "secrets": str(SECRETS_CONFIG)}

    def train(name: str, config: str, source: str, extra: list[str]) -> float:
        argv = ["train", configs[config], *_common(recipe, seed, files[source], data, heldout), *extra,
                f"output_dir={folder / name}"]
        return timed(argv, folder / name)

    seconds = {"bt": train("bt", "member", "noisy", [])}
    seconds["ensemble"] = timed(["reward-ensemble", str(MEMBER_CONFIG), *_common(recipe, seed, files["noisy"], data,
                                                                                  heldout),
                                 "--members", str(recipe.members), "--out", str(folder / "ensemble")],
                                folder / "ensemble")
    seconds["secrets2"] = train("secrets2", "secrets", "scored", _secrets(recipe))
    names = list(ABLATIONS) if ablations else []
    for name in names:
        config, source, extra = ABLATIONS[name]
        seconds[name] = train(name, config, source, extra(recipe))
    transformed = read_jsonl(folder / "secrets2" / "data" / "transformed.jsonl")
    by_strength = [r["meta"]["strength_flipped"] for r in transformed]
    noisy_flags = [r["meta"]["noise_flipped"] for r in transformed]
    ensemble = json.loads((folder / "ensemble" / "ensemble.json").read_text())
    return {
        "seed": seed,
        **{name: judged_accuracy(folder / name / "final", heldout, data) for name in ("bt", "secrets2", *names)},
        "bt_trainer_eval": _eval(folder / "bt")["reward_accuracy"],
        "members_heldout": [m["heldout_accuracy"] for m in ensemble["members"]],
        "strength_flipped": sum(by_strength),
        "noise_flips_caught": sum(a and b for a, b in zip(by_strength, noisy_flags)),
        "noise_flips": sum(noisy_flags),
        "labels_correct_after_transform": sum(a == b for a, b in zip(by_strength, noisy_flags)) / len(transformed),
        "negative_strength_share": ensemble["scored"]["negative_strength_share"],
        "seconds": seconds,
    }


def accuracy_runs(out: Path, recipe: Recipe) -> dict:
    """Clean pairs and the blanked-media control (see the module docstring)."""
    folder = out / "accuracy"
    data, blank = folder / "data", folder / "blank"
    train = write_preference_pairs(data, seed=200, count=recipe.accuracy_pairs, name="train.jsonl")
    heldout = write_preference_pairs(data, seed=10_200, count=recipe.heldout, name="heldout.jsonl")
    write_jsonl_atomic(blank / "train.jsonl", blank_media(read_jsonl(train), blank))
    write_jsonl_atomic(blank / "heldout.jsonl", blank_media(read_jsonl(heldout), blank))
    result = {}
    for name, root in (("images", data), ("blank", blank)):
        started = time.perf_counter()
        run(["train", str(MEMBER_CONFIG), *_common(recipe, 0, root / "train.jsonl", root, root / "heldout.jsonl"),
             f"max_steps={recipe.accuracy_steps}", f"output_dir={folder / name}"])
        ev = _eval(folder / name)
        result[name] = {"heldout_accuracy": ev["reward_accuracy"], "seconds": round(time.perf_counter() - started, 1),
                        "by_kind": {k: v["reward_accuracy"] for k, v in ev.get("by_kind", {}).items()}}
    return result


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def report(results: dict) -> str:
    lines = ["# Reward-model measurements", ""]
    if "noise" in results:
        lines += ["## 20% flipped labels: plain BT vs Secrets II (clean held-out accuracy)", "",
                  "| seed | plain BT | Secrets II | members (held-out) | noise flips caught by the strength |",
                  "|---|---|---|---|---|"]
        for r in results["noise"]:
            members = ", ".join(f"{a:.3f}" for a in r["members_heldout"])
            lines.append(f"| {r['seed']} | {r['bt']:.3f} | {r['secrets2']:.3f} | {members} | "
                         f"{r['noise_flips_caught']} of {r['strength_flipped']} flipped ({r['noise_flips']} noisy) |")
        lines.append(f"| mean | {_mean([r['bt'] for r in results['noise']]):.3f} | "
                     f"{_mean([r['secrets2'] for r in results['noise']]):.3f} | | |")
        extra = [k for k in results["noise_mean"] if k not in ("bt", "secrets2")]
        if extra:
            lines += ["", "| run | " + " | ".join(f"seed {r['seed']}" for r in results["noise"]) + " | mean |",
                      "|---|" + "---|" * (len(results["noise"]) + 1)]
            for k in ("bt", "secrets2", *extra):
                cells = " | ".join(f"{r[k]:.3f}" for r in results["noise"])
                lines.append(f"| {k} | {cells} | {results['noise_mean'][k]:.3f} |")
    if "accuracy" in results:
        acc = results["accuracy"]
        lines += ["", "## Accuracy target", "", "| run | held-out accuracy | target | seconds |", "|---|---|---|---|",
                  f"| images | {acc['images']['heldout_accuracy']:.3f} | >= 0.90 | {acc['images']['seconds']} |",
                  (f"| blanked media (control) | {acc['blank']['heldout_accuracy']:.3f} | <= 0.60 | "
                   f"{acc['blank']['seconds']} |")]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--part", choices=("noise", "accuracy", "all"), default="all")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="noise seeds (default 0 1 2; --quick: 0)")
    parser.add_argument("--ablations", action="store_true",
                        help="also: BT on the clean pairs, flip only, margin only, soft label + margin, and the "
                             "contrastive term (weight 0.1) with plain BT and with the recipe")
    parser.add_argument("--quick", action="store_true", help="a few pairs and steps: checks the plumbing only")
    args = parser.parse_args(argv)
    recipe = QUICK if args.quick else Recipe()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    before = out / "results.json"  # parts run separately add up (--part noise, then --part accuracy)
    results: dict = json.loads(before.read_text()) if before.is_file() else {}
    results.update({"recipe": asdict(recipe), "model": str(MODEL.relative_to(REPO))})
    started = time.perf_counter()
    if args.part in ("noise", "all"):
        seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
        results["noise"] = [noise_seed(out, seed, recipe, args.ablations) for seed in seeds]
        runs = ("bt", "secrets2", *(ABLATIONS if args.ablations else ()))
        results["noise_mean"] = {k: _mean([r[k] for r in results["noise"]]) for k in runs}
    if args.part in ("accuracy", "all"):
        results["accuracy"] = accuracy_runs(out, recipe)
    results[f"seconds_{args.part}"] = round(time.perf_counter() - started, 1)
    write_json_atomic(out / "results.json", results)
    write_text_atomic(out / "results.md", report(results))
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
