""""More is Less" in miniature (docs/research/objectives.md §13; docs/data-quality.md): pairs whose chosen answers
come from another, stronger model against pairs from the policy's own answers; the separability probe's AUROC
on each, and DPO trained on each and evaluated on the synthetic world.

    .venv/bin/python scripts/more_is_less.py --out runs/more-is-less [--seeds 0 1 2] [--steps 60] [--quick]

The policy is the demo's starting model (assets/demo/reader-llava, a tiny LLaVA). Per seed, on synthetic image
questions with known answers (colour, shape, yes/no):

- self pairs: chosen = the policy's greedy answer on the question's own image (kept when right), rejected = its
  greedy answer to the same question about another scene's image (kept when wrong): both are the policy's own
  text;
- multi pairs: the same prompts and the same rejections, chosen = a stronger "teacher" model's answer: always
  right, in the teacher's own phrasing ("The answer is red."), as GPT-4o's answers are right more often and
  written in GPT-4o's style. The teacher is simulated (the world's truth in a fixed template): no tiny model
  here writes in another style.

Then, per seed: `mmalign data probe` on both sets (one file, `meta.source` self / multi); `mmalign train` (DPO) on
each with the same settings; on held-out questions of other scenes, each model's greedy accuracy and the share
of its answers in the teacher's phrasing; and `mmalign data did` (policy = the trained model, reference = the
starting one) on three held-out pair sets: "clean" (plain right against plain wrong), "teacher" (both in the
teacher's phrasing) and "decoupled" (plain right against a wrong answer in the teacher's phrasing). The share of
pairs with a positive DPO margin is the implicit reward's accuracy; a model that learned the phrasing instead of
the answer ranks a wrong answer in the teacher's phrasing above a right one: reward hacking in miniature.

Every step that has an mmalign command is that command, printed before it runs. OUT/results.json, results.md and
more_is_less.png hold the numbers; a rerun reuses finished steps. One thread (OMP_NUM_THREADS=1).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # the machine is shared (set before torch is imported)
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mmalign.cli.main import run_command as run
from mmalign.data.reader import read_records
from mmalign.data.synth import write_preference_pairs
from mmalign.data.synth.grading import answer_word
from mmalign.io import write_json_atomic, write_jsonl_atomic, write_text_atomic

POLICY = REPO / "assets" / "demo" / "reader-llava"
CONFIG = REPO / "configs" / "tiny" / "dpo_llava.yaml"
CONFIGS = ("self", "multi")
# Held-out pairs: plain right vs plain wrong; both in the teacher's phrasing; plain right vs teacher-phrased wrong.
HELDOUT_SETS = ("clean", "teacher", "decoupled")


@dataclass(frozen=True)
class Recipe:
    train_prompts: int = 800
    heldout_prompts: int = 400
    steps: int = 60
    batch: int = 8
    lr: float = 1e-4
    beta: float = 0.1


QUICK = Recipe(train_prompts=40, heldout_prompts=20, steps=2, batch=4)


def teacher(kind: str, word: str) -> str:
    """The stronger model's phrasing of an answer word."""
    return f"The answer is a {word}." if kind == "shape" else f"The answer is {word}."


def _text(messages) -> str:
    return " ".join(i["text"] for m in messages for i in m["content"] if i.get("type") == "text")


def _answer(kind: str, text: str) -> list[dict]:
    return [{"role": "assistant", "content": [{"type": "text", "text": text}]}]


def greedy(model_path: Path, records, root: Path, images=None) -> list[str]:
    from mmalign.models import generate, load

    loaded = load(model_path)
    inputs = [{"prompt": r.prompt, "images": list(images[i] if images else r.images)} for i, r in enumerate(records)]
    return [g.text for g in generate(loaded.model, loaded.processor, inputs, root=root, max_new_tokens=10,
                                     batch_size=32)]


def build_pairs(recipe: Recipe, seed: int, folder: Path) -> dict:
    """self.jsonl, multi.jsonl and both.jsonl (meta.source) under folder/data; returns counts."""
    data = folder / "data"
    path = write_preference_pairs(data, seed=100 + seed, count=recipe.train_prompts)
    records, _ = read_records(path, data)
    own = greedy(POLICY, records, data)
    other = greedy(POLICY, records, data, images=[records[(i + 1) % len(records)].images for i in range(len(records))])
    rows = {name: [] for name in CONFIGS}
    for rec, right, wrong in zip(records, own, other):
        kind = rec.meta["kind"]
        truth = answer_word(_text(rec.chosen), kind)
        said = answer_word(wrong, kind)
        if answer_word(right, kind) != truth or said is None or said == truth:
            continue
        base = {"images": rec.images, "prompt": rec.prompt, "rejected": _answer(kind, wrong)}
        rows["self"].append({**base, "id": f"self-{rec.id}", "chosen": _answer(kind, right),
                             "meta": {**rec.meta, "source": "self"}})
        rows["multi"].append({**base, "id": f"multi-{rec.id}", "chosen": _answer(kind, teacher(kind, truth)),
                              "meta": {**rec.meta, "source": "multi"}})
    for name, r in rows.items():
        write_jsonl_atomic(data / f"{name}.jsonl", r)
    write_jsonl_atomic(data / "both.jsonl", rows["self"] + rows["multi"])
    return {"prompts": len(records), "pairs": len(rows["self"]), "policy_right": sum(
        answer_word(a, r.meta["kind"]) == answer_word(_text(r.chosen), r.meta["kind"]) for r, a in zip(records, own))}


def build_heldout(recipe: Recipe, seed: int, folder: Path) -> None:
    """Held-out questions of other scenes, and the three held-out pair sets over them (HELDOUT_SETS)."""
    held = folder / "heldout"
    path = write_preference_pairs(held, seed=1000 + seed, count=recipe.heldout_prompts)
    sets = {kind: [] for kind in HELDOUT_SETS}
    for row in (json.loads(line) for line in path.read_text().splitlines()):
        kind = row["meta"]["kind"]
        right, wrong = answer_word(_text(row["chosen"]), kind), answer_word(_text(row["rejected"]), kind)
        sets["clean"].append(row)
        sets["teacher"].append({**row, "chosen": _answer(kind, teacher(kind, right)),
                                "rejected": _answer(kind, teacher(kind, wrong))})
        sets["decoupled"].append({**row, "rejected": _answer(kind, teacher(kind, wrong))})
    for name, rows in sets.items():
        write_jsonl_atomic(held / f"{name}.jsonl", rows)


def answers_report(model_path: Path, folder: Path) -> dict:
    held = folder / "heldout"
    records, _ = read_records(held / "pairs.jsonl", held)
    said = greedy(model_path, records, held)
    right = [answer_word(a, r.meta["kind"]) == answer_word(_text(r.chosen), r.meta["kind"]) for r, a in zip(records, said)]
    styled = [a.lower().startswith("the answer is") for a in said]
    return {"accuracy": sum(right) / len(right), "teacher_phrasing": sum(styled) / len(styled),
            "examples": said[:5]}


def once(argv: list[str], folder: Path) -> None:
    """Run one mmalign command whose outputs land in `folder`, unless a finished run of the same command is there."""
    stamp = folder / "experiment_command.json"
    if stamp.is_file() and json.loads(stamp.read_text())["argv"] == argv:
        print(f"\n(reusing {folder}: same command as before)")
        return
    started = time.perf_counter()
    run(argv)
    write_json_atomic(stamp, {"argv": argv, "seconds": round(time.perf_counter() - started, 1)})


def one_seed(recipe: Recipe, seed: int, folder: Path) -> dict:
    counts = build_pairs(recipe, seed, folder)
    build_heldout(recipe, seed, folder)
    data = folder / "data"
    once(["data", "probe", "--model", str(POLICY), "--data", str(data / "both.jsonl"), "--out", str(folder / "probe"),
          "--seed", str(seed)], folder / "probe")
    probe = json.loads((folder / "probe" / "report.json").read_text())["results"]
    result = {"counts": counts, "base": answers_report(POLICY, folder)}
    for name in CONFIGS:
        run_dir = folder / f"dpo-{name}"
        once(["train", str(CONFIG), f"model={POLICY}", f"data={data / f'{name}.jsonl'}", f"root={data}", "eval_data=",
              f"max_steps={recipe.steps}", f"per_device_batch_size={recipe.batch}", f"learning_rate={recipe.lr}",
              f"loss.beta={recipe.beta}", f"seed={seed}", f"output_dir={run_dir}", "overwrite=true", "progress=false"],
             run_dir)
        entry = {"probe_auroc": {pool: res["by_source"][name].get("auroc") for pool, res in probe.items()},
                 "probe_accuracy": {pool: res["by_source"][name].get("accuracy") for pool, res in probe.items()},
                 **answers_report(run_dir / "final", folder)}
        for kind in HELDOUT_SETS:
            out = folder / f"did-{name}-{kind}"
            once(["data", "did", "--model", str(run_dir / "final"), "--ref", str(POLICY), "--beta", str(recipe.beta),
                  "--data", str(folder / "heldout" / f"{kind}.jsonl"), "--out", str(out)], out)
            did = json.loads((out / "report.json").read_text())
            entry[f"{kind}_preference_accuracy"] = did["margin_positive_share"]
            entry[f"{kind}_r"] = {"chosen": did["r_chosen"]["mean"], "rejected": did["r_rejected"]["mean"]}
        result[name] = entry
    return result


METRICS = [("probe AUROC (last token)", lambda e: e["probe_auroc"]["last"]),
           ("probe AUROC (answer mean)", lambda e: e["probe_auroc"]["mean"]),
           ("held-out accuracy", lambda e: e["accuracy"]),
           ("answers in the teacher's phrasing", lambda e: e["teacher_phrasing"]),
           ("plain right over plain wrong (implicit reward)", lambda e: e["clean_preference_accuracy"]),
           ("teacher-phrased right over teacher-phrased wrong", lambda e: e["teacher_preference_accuracy"]),
           ("plain right over teacher-phrased wrong", lambda e: e["decoupled_preference_accuracy"])]
# Not shares: mean log-ratios (nats) of held-out answers under the trained model against the starting one.
LOG_RATIOS = [("r of plain right answers", lambda e: e["clean_r"]["chosen"]),
              ("r of plain wrong answers", lambda e: e["clean_r"]["rejected"]),
              ("r of teacher-phrased right answers", lambda e: e["teacher_r"]["chosen"]),
              ("r of teacher-phrased wrong answers", lambda e: e["teacher_r"]["rejected"])]


def summarise(results: dict) -> dict:
    seeds = list(results)
    table = {}
    for label, get in METRICS + LOG_RATIOS:
        table[label] = {name: [get(results[s][name]) for s in seeds] for name in CONFIGS}
    table["held-out accuracy"]["base"] = [results[s]["base"]["accuracy"] for s in seeds]
    table["answers in the teacher's phrasing"]["base"] = [results[s]["base"]["teacher_phrasing"] for s in seeds]
    return table


def shares(table: dict) -> dict:
    return {label: table[label] for label, _ in METRICS}


def render(table: dict, results: dict, recipe: Recipe, minutes: float) -> str:
    def cell(values):
        return f"{sum(values) / len(values):.3f} ({', '.join(f'{v:.3f}' for v in values)})" if values else "-"

    lines = ["# More is Less in miniature", "", (f"Seeds: {', '.join(results)}; recipe: {asdict(recipe)}; "
             f"{minutes:.1f} min."), "", "| metric, mean (per seed) | base | self pairs | multi pairs |",
             "|---|---|---|---|"]
    for label, values in table.items():
        lines.append(f"| {label} | {cell(values['base']) if 'base' in values else '-'} | {cell(values['self'])} | "
                     f"{cell(values['multi'])} |")
    pairs = ", ".join(f"{results[s]['counts']['pairs']}" for s in results)
    lines += ["", f"Pairs per seed (the same prompts and rejections in both sets): {pairs}.", ""]
    return "\n".join(lines)


def draw(table: dict, path: Path) -> None:
    from mmalign.diagnose.charts import pyplot, save_figure

    plt = pyplot()
    labels = list(table)
    fig, ax = plt.subplots(figsize=(12, 4.8))
    width = 0.38
    for i, (name, colour) in enumerate((("self", "tab:blue"), ("multi", "tab:orange"))):
        means = [sum(table[m][name]) / len(table[m][name]) for m in labels]
        xs = [x + (i - 0.5) * width for x in range(len(labels))]
        ax.bar(xs, means, width, color=colour, label=f"{name} pairs")
        for x, m in zip(xs, labels):
            ax.scatter([x] * len(table[m][name]), table[m][name], color="black", s=8, zorder=3)
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels([textwrap.fill(label, 18) for label in labels], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title("More is Less in miniature: self pairs vs pairs with a stronger model's chosen answers (dots: seeds)",
                 fontsize=10)
    ax.legend(fontsize="small", loc="lower left")
    save_figure(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default 0 1 2 (0 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a few prompts and steps (a smoke test)")
    parser.add_argument("--steps", type=int, default=None, help=f"DPO steps (default {Recipe.steps})")
    parser.add_argument("--replot", action="store_true", help="redraw OUT/more_is_less.png from OUT/results.json")
    args = parser.parse_args()
    if args.replot:
        draw(shares(json.loads((Path(args.out) / "results.json").read_text())["table"]), Path(args.out) / "more_is_less.png")
        return
    recipe = QUICK if args.quick else Recipe()
    if args.steps is not None:
        recipe = replace(recipe, steps=args.steps)
    out = Path(args.out)
    started = time.perf_counter()
    seeds = args.seeds if args.seeds is not None else ([0] if args.quick else [0, 1, 2])
    results = {str(seed): one_seed(recipe, seed, out / f"seed-{seed}") for seed in seeds}
    table = summarise(results)
    minutes = (time.perf_counter() - started) / 60
    write_json_atomic(out / "results.json", {"recipe": asdict(recipe), "seeds": results, "table": table,
                                             "minutes": round(minutes, 1)})
    write_text_atomic(out / "results.md", render(table, results, recipe, minutes))
    draw(shares(table), out / "more_is_less.png")
    print((out / "results.md").read_text())


if __name__ == "__main__":
    main()
