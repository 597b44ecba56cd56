"""Probe: can a tiny LLaVA learn to follow "In ImageN" well enough for MIA-DPO to sharpen it? (the earlier demo goal)

    .venv/bin/python scripts/reference_probe.py --out runs/reference-probe [--quick] [--base MODEL]
                                                [--set dpo_lr=2e-4 ...]

The demo's +15-point multi-image goal needs a starting model that can, in principle, answer about the image a
prompt points at. The first demo model could not (docs/demo_findings.md). This script builds the demo's
starting model the way LLaVA-1.5 is built, with a language model that has read references first
(`demo.reader_base.build_reader_base`, about 27 minutes alone on 2 cores), and measures where it stands on
held-out suites (synth-pope 600, synth-multi 900, seed 1000), broken down by format x question kind x outcome
(right / the distractor's answer / other):

- the SFT model ("base");
- capacity: the base supervised directly on 9,000 multi-image questions with their true answers (what DPO
  could reach at most with this model);
- MIA-DPO: `build-data mia` pairs from the base, DPO with LoRA on the open-question pairs plus the chosen
  answers' NLL (the yes/no pairs are counted, not used: most prefer "yes", and training on them collapses
  the model's yes/no answers).

`--set FIELD=VALUE` overrides a measurement setting of `Recipe` (the DPO ones, say); a rerun reuses the
built model and pairs. `--base MODEL` measures an existing starting model instead of building one (the text
probe then reports nothing). `dpo_formats` keeps the open pairs of some formats only; `anchor_rows` mixes
that many single-image instructions into the DPO data with chosen = rejected: their DPO term is exactly
zero, so only the NLL term trains on them (a replay anchor; not MIA-DPO's recipe). Results: OUT/results.json and OUT/results.md. The first version of this probe
(text pretraining in one stage, 32 px images, no captions) is at commit 91b4695; its numbers are in
docs/demo_findings.md, section 2.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from recipe_settings import with_settings

from mmalign.cli.main import run_command as run
from mmalign.data.synth.patch_text import text_record
from mmalign.data.synth.questions import answer_text
from mmalign.data.synth.suites import write_multi_suite
from mmalign.demo.reader_base import QUICK_READER, ReaderRecipe, build_reader_base
from mmalign.demo.stages import train_stage as train
from mmalign.errors import MMAlignError
from mmalign.eval.predictions import read_predictions
from mmalign.eval.synth import parse_multi, read_suite
from mmalign.io import read_jsonl, write_json_atomic, write_jsonl_atomic, write_text_atomic
from mmalign.train.sft_data import llava_to_records

SUITE_SEED, PAIR_SEED, MULTI_SEED, TEXT_PROBE_SEED, ANCHOR_SEED = 1000, 1, 7, 777, 3
FORMATS = "sequence,grid_collage,pic_in_pic"


@dataclass(frozen=True)
class Recipe:
    multi_rows: int = 9000
    multi_steps: int = 600  # 0: no capacity check
    source_rows: int = 6000
    dpo_steps: int = 600
    dpo_batch: int = 16
    dpo_lr: float = 5e-4
    dpo_beta: float = 0.1
    dpo_sft_weight: float = 1.0
    dpo_rank: int = 32
    dpo_formats: str = FORMATS  # comma list: the open pairs of these formats train
    anchor_rows: int = 0  # single-image instructions mixed into the DPO data (chosen = rejected)
    batch: int = 32
    pope_questions: int = 600
    multi_questions: int = 900
    text_probe: int = 300


QUICK = Recipe(multi_rows=12, multi_steps=2, source_rows=12, dpo_steps=2, dpo_batch=2, dpo_rank=4, anchor_rows=4,
               batch=4, pope_questions=12, multi_questions=12, text_probe=6)


def overridden(recipe: Recipe, settings: list[str]) -> Recipe:
    """`recipe` with FIELD=VALUE settings applied (values parsed as the field's type); a bad one exits."""
    try:
        return with_settings(recipe, settings)
    except MMAlignError as exc:
        raise SystemExit(str(exc)) from None


def outcome(answer: str, truth: dict) -> str:
    """right / the distractor's answer / other, read the way `mmalign eval synth-multi` scores."""
    said = parse_multi(answer, truth["kind"])
    return "right" if said == truth["answer"] else "distractor" if said in truth["distractor_answers"] else "other"


def evaluate(model: Path, out: Path, suites: Path, r: Recipe) -> dict:
    """synth-pope and synth-multi accuracy, and synth-multi outcomes per format x kind."""
    res = {}
    for suite, count in (("synth-pope", r.pope_questions), ("synth-multi", r.multi_questions)):
        data = suites / suite
        args = ["eval", suite, "--model", str(model), "--out", str(out / suite), "--max-new-tokens", "6"]
        args += (["--data", str(data / "questions.jsonl")] if (data / "questions.jsonl").is_file() else
                 ["--make-data", str(data), "--seed", str(SUITE_SEED), "--count", str(count)])
        run(args)
        res[suite] = json.loads((out / suite / "metrics.json").read_text())["overall"]["accuracy"]
    answers, _ = read_predictions(out / "synth-multi" / "predictions.jsonl")
    table: Counter = Counter(f"{q.subset}/{q.truth['kind']}/{outcome(answers[q.id], q.truth)}"
                             for q in read_suite("synth-multi", suites / "synth-multi" / "questions.jsonl"))
    res["multi_outcomes"] = dict(sorted(table.items()))
    return res


def text_probe(model: Path, r: Recipe) -> dict:
    """Accuracy per question kind on held-out text sequences (is the reference read in text?)."""
    from mmalign.models.generate import generate
    from mmalign.models.load import load

    loaded = load(model)
    rng = random.Random(TEXT_PROBE_SEED)
    records = [text_record(i, rng, single_share=0.0) for i in range(r.text_probe)]
    outs = generate(loaded.model, loaded.processor, [{"prompt": rec["prompt"]} for rec in records],
                    adapter=loaded.adapter, max_new_tokens=4, batch_size=64)
    right, total = Counter(), Counter()
    for rec, out in zip(records, outs):
        kind = rec["meta"]["kind"]
        total[kind] += 1
        right[kind] += out.text.strip().lower() == rec["chosen"].lower()
    return {k: round(100 * right[k] / total[k], 1) for k in sorted(total)}


def multi_records(root: Path, count: int) -> Path:
    """synth-multi questions (seed MULTI_SEED) as SFT records with their true answers."""
    write_multi_suite(root, seed=MULTI_SEED, count=count)
    path = root / "sft.jsonl"
    write_jsonl_atomic(path, ({"id": q["id"], "images": q["images"], "prompt": q["prompt"],
                               "chosen": answer_text(q["truth"]["kind"], q["truth"]["answer"]),
                               "rejected": answer_text(q["truth"]["kind"], q["truth"]["answer"])}
                              for q in read_jsonl(root / "questions.jsonl")))
    return path


def split_pairs(pairs: Path, out: Path) -> dict:
    """Write the open-question pairs to `out`; count the yes/no pairs by which answer is preferred."""
    counts, kept = Counter(), []
    for pair in read_jsonl(pairs):
        chosen = pair["chosen"][0]["content"][0]["text"].lower()
        if chosen in ("yes.", "no."):
            counts[f"{chosen.rstrip('.')} preferred"] += 1
        else:
            counts["open"] += 1
            kept.append(pair)
    write_jsonl_atomic(out, kept)
    return dict(counts)


def dpo_data(out: Path, pairs: Path, r: Recipe) -> Path:
    """OUT/dpo-data.jsonl: the open pairs of `r.dpo_formats` plus `r.anchor_rows` single-image instructions,
    with image paths relative to OUT."""
    formats = set(r.dpo_formats.split(","))
    unknown = formats - set(FORMATS.split(","))
    if unknown:
        raise SystemExit(f"dpo_formats: unknown format(s) {', '.join(sorted(unknown))}; choose from {FORMATS}")
    rows = []
    for pair in read_jsonl(pairs / "open.jsonl"):
        if pair["meta"]["format"] in formats:
            rows.append({**pair, "images": [f"{pairs.name}/{image}" for image in pair["images"]]})
    if r.anchor_rows:
        anchor = out / f"anchor-{r.anchor_rows}"
        if not (anchor / "records.jsonl").is_file():
            run(["data", "synth", "llava", "--out", str(anchor), "--seed", str(ANCHOR_SEED),
                 "--count", str(r.anchor_rows)])
            llava_to_records(anchor / "llava.json", anchor, anchor / "records.jsonl", "error")
        rows += [{**rec, "images": [f"{anchor.name}/{image}" for image in rec["images"]]}
                 for rec in read_jsonl(anchor / "records.jsonl")]
    random.Random(0).shuffle(rows)
    write_jsonl_atomic(out / "dpo-data.jsonl", rows)
    return out / "dpo-data.jsonl"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="runs/reference-probe")
    ap.add_argument("--quick", action="store_true", help="a few steps and questions (for tests)")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="override a Recipe field")
    ap.add_argument("--base", type=Path, help="measure this starting model instead of building the reader base")
    a = ap.parse_args(argv)
    r, out = overridden(QUICK if a.quick else Recipe(), a.set), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    suites = out / "suites"

    base = a.base or out / "sft" / "final"
    if a.base and not (a.base / "config.json").is_file():
        raise SystemExit(f"--base {a.base}: no model there (config.json missing)")
    if not (base / "config.json").is_file():
        base = build_reader_base(out, QUICK_READER if a.quick else ReaderRecipe())
    text_lm = out / "captions" / "text-lm" / "final"
    results = {"recipe": asdict(r), "text_accuracy": {} if a.base else text_probe(text_lm, r),
               "models": {"base": evaluate(base, out / "eval" / "base", suites, r)}}
    if r.multi_steps:  # 0 skips the capacity check (DPO-only reruns)
        multi = multi_records(out / "multi-data", r.multi_rows)
        capacity = train(out / "capacity", base, multi, multi.parent, r.multi_steps, r.batch, learning_rate=5e-4,
                         warmup_steps=20)
        results["models"]["capacity"] = evaluate(capacity, out / "eval" / "capacity", suites, r)

    source = out / f"source-{r.source_rows}"
    pairs = out / f"pairs-{r.source_rows}"
    if not (pairs / "pairs.jsonl").is_file():
        run(["data", "synth", "llava", "--out", str(source), "--seed", str(PAIR_SEED), "--count", str(r.source_rows)])
        run(["build-data", "mia", "--data", str(source / "llava.json"), "--root", str(source), "--model", str(base),
             "--out", str(pairs), "--cell", "32", "--margin", "4", "--max-new-tokens", "8", "--seed", "0",
             "--min-ppl", "-1", "--no-progress"])
    results["pairs"] = split_pairs(pairs / "pairs.jsonl", pairs / "open.jsonl")
    loss = {"name": "sigmoid", "beta": r.dpo_beta}
    if r.dpo_sft_weight:
        loss = {"name": "combo", "terms": [loss, {"name": "sft", "weight": r.dpo_sft_weight}]}
    dpo = train(out / "dpo", base, dpo_data(out, pairs, r), out, r.dpo_steps, r.dpo_batch, loss=loss,
                learning_rate=r.dpo_lr, warmup_steps=10,
                lora={"enabled": True, "r": r.dpo_rank, "alpha": 2 * r.dpo_rank, "dropout": 0.0})
    results["models"]["mia_dpo"] = evaluate(dpo, out / "eval" / "mia_dpo", suites, r)
    write_json_atomic(out / "results.json", results)
    write_text_atomic(out / "results.md", render(results))
    print(render(results))
    return 0


def render(res: dict) -> str:
    lines = ["| model | synth-pope | synth-multi |", "|---|---|---|"]
    lines += [f"| {name} | {m['synth-pope']:.1f} | {m['synth-multi']:.1f} |" for name, m in res["models"].items()]
    lines += ["", "synth-multi answers, right / the distractor's answer / other:", "",
              "| model | format | colour | shape | exists |", "|---|---|---|---|---|"]
    for name, m in res["models"].items():
        for fmt in ("sequence", "collage", "inset"):
            cells = ["/".join(str(m["multi_outcomes"].get(f"{fmt}/{kind}/{x}", 0)) for x in ("right", "distractor", "other"))
                     for kind in ("colour", "shape", "exists")]
            lines.append(f"| {name} | {fmt} | " + " | ".join(cells) + " |")
    lines += ["", f"Text sequences, accuracy per kind: {res['text_accuracy']}", f"MIA pairs: {res['pairs']}",
              f"DPO settings: {', '.join(f'{k}={v}' for k, v in res['recipe'].items() if k.startswith(('dpo', 'anchor')))}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
