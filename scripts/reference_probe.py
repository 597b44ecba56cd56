"""Probe: can a tiny LLaVA learn to follow "In ImageN" well enough for MIA-DPO to sharpen it? (issue 9)

    .venv/bin/python scripts/reference_probe.py --out runs/reference-probe [--quick]

The demo's +15-point multi-image goal needs a starting model that can, in principle, answer about the
image a prompt points at. The shipped demo model cannot (docs/demo_findings.md). This script builds a
candidate starting model the way LLaVA-1.5 is built, with a language model that has read references first,
and measures where it stands:

1. a tiny LLaVA with a 4-layer decoder and the word "dark" added (`data.synth.patch_text`);
2. vision pretraining (as `demo/base.py`);
3. language-model pretraining on the synthetic world written as text, one word per patch
   (`patch_text.write_patch_text`), so "Image2: <16 words>" has the layout of "Image2: <16 image tokens>";
4. projector alignment with the language model and tower frozen (`freeze_language_model: true`,
   LLaVA's stage 1) on single-image instructions;
5. SFT of projector and decoder on the same single-image instructions mixed with the text;
6. three measurements on held-out suites (synth-pope 600, synth-multi 900, seed 1000), each broken down
   by format x question kind x outcome (right / the distractor's answer / other):
   - the SFT model ("base");
   - capacity: the base supervised directly on 9,000 multi-image questions with their true answers
     (what DPO could reach at most with this model);
   - MIA-DPO: `build-data mia` pairs from the base, DPO with LoRA on the open-question pairs (the yes/no
     pairs are counted, not used: most prefer "yes", and training on them collapses the model to "yes").
Results: OUT/results.json and OUT/results.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmalign.data.synth.patch_text import BACKGROUND_WORD, text_record, write_patch_text
from mmalign.data.synth.questions import answer_text
from mmalign.data.synth.suites import write_multi_suite
from mmalign.data.synth.world import write_llava_instructions
from mmalign.demo.base import SFT_KINDS, pretrain_vision_tower
from mmalign.demo.pipeline import run
from mmalign.eval.predictions import read_predictions
from mmalign.eval.synth import parse_multi, read_suite
from mmalign.io import write_json_atomic, write_jsonl_atomic, write_text_atomic
from mmalign.train.sft_data import llava_to_records

SUITE_SEED, SFT_SEED, PAIR_SEED, MULTI_SEED, TEXT_PROBE_SEED = 1000, 0, 1, 7, 777


def read_jsonl(path: Path) -> list[dict]:  # only files this script (or mmalign) wrote
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@dataclass(frozen=True)
class Recipe:
    layers: int = 4
    vision_steps: int = 3000
    text_steps: int = 5000
    align_steps: int = 1000
    sft_steps: int = 2000
    sft_rows: int = 32768
    sft_text_rows: int = 10000  # text records mixed into SFT so the decoder keeps what it read
    multi_rows: int = 9000
    multi_steps: int = 600
    source_rows: int = 1500
    dpo_steps: int = 300
    dpo_batch: int = 16
    batch: int = 32
    pope_questions: int = 600
    multi_questions: int = 900
    text_probe: int = 300


QUICK = Recipe(layers=2, vision_steps=4, text_steps=3, align_steps=2, sft_steps=2, sft_rows=16, sft_text_rows=8,
               multi_rows=12, multi_steps=2, source_rows=12, dpo_steps=2, batch=4, pope_questions=12,
               multi_questions=12, text_probe=6, dpo_batch=2)


def train(out: Path, model: Path, data: Path, root: Path | None, steps: int, batch: int, **extra) -> Path:
    cfg = {"model": str(model), "data": str(data), "output_dir": str(out), "loss": {"name": "sft"},
           "learning_rate": 1e-3, "warmup_steps": 50, "per_device_batch_size": batch, "max_steps": steps,
           "max_length": 512, "seed": 0, "on_bad_record": "skip", **({"root": str(root)} if root else {}), **extra}
    path = out.parent / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    run(["train", str(path), "progress=false"])
    return out / "final"


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


def sft_mix(out: Path, llava: Path, text_rows: int) -> Path:
    """Single-image instructions as trainer records, shuffled with `text_rows` patch-text records."""
    records = read_jsonl(llava_to_records(llava, llava.parent, out.with_name("instructions.jsonl"), "error"))
    rng = random.Random(SFT_SEED)
    records += [text_record(i, rng, single_share=0.2) for i in range(text_rows)]
    rng.shuffle(records)
    write_jsonl_atomic(out, records)
    return out


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="runs/reference-probe")
    ap.add_argument("--quick", action="store_true", help="a few steps and questions (for tests)")
    a = ap.parse_args(argv)
    r, out = (QUICK if a.quick else Recipe()), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    suites = out / "suites"
    from mmalign.models.tiny import TinyLlavaSpec, build_tiny_llava

    init = build_tiny_llava(out / "init", TinyLlavaSpec(num_layers=r.layers), extra_words=[BACKGROUND_WORD])
    vision_acc = pretrain_vision_tower(init, out / "vision", steps=r.vision_steps, batch=32, lr=2e-3, seed=0)
    text = write_patch_text(out / "text" / "text.jsonl", seed=SFT_SEED, count=r.text_steps * r.batch)
    reader = train(out / "text-lm", out / "vision", text, None, r.text_steps, r.batch, max_length=320)
    llava = write_llava_instructions(out / "sft-data", seed=SFT_SEED, count=r.sft_rows, kinds=SFT_KINDS)
    aligned = train(out / "align", reader, llava, llava.parent, r.align_steps, r.batch, data_format="llava",
                    freeze_language_model=True)
    mix = sft_mix(out / "sft-data" / "mix.jsonl", llava, r.sft_text_rows)
    base = train(out / "sft", aligned, mix, llava.parent, r.sft_steps, r.batch, freeze_vision_tower=False)

    results = {"recipe": asdict(r), "vision_pretraining": vision_acc, "text_accuracy": text_probe(reader, r),
               "models": {"base": evaluate(base, out / "eval" / "base", suites, r)}}
    multi = multi_records(out / "multi-data", r.multi_rows)
    capacity = train(out / "capacity", base, multi, multi.parent, r.multi_steps, r.batch, learning_rate=5e-4,
                     warmup_steps=20)
    results["models"]["capacity"] = evaluate(capacity, out / "eval" / "capacity", suites, r)

    run(["data", "synth", "llava", "--out", str(out / "source"), "--seed", str(PAIR_SEED),
         "--count", str(r.source_rows)])
    run(["build-data", "mia", "--data", str(out / "source" / "llava.json"), "--root", str(out / "source"),
         "--model", str(base), "--out", str(out / "pairs"), "--cell", "32", "--margin", "4",
         "--max-new-tokens", "8", "--seed", "0", "--min-ppl", "-1", "--no-progress"])
    results["pairs"] = split_pairs(out / "pairs" / "pairs.jsonl", out / "pairs" / "open.jsonl")
    dpo = train(out / "dpo", base, out / "pairs" / "open.jsonl", out / "pairs", r.dpo_steps, r.dpo_batch,
                loss={"name": "sigmoid", "beta": 0.1}, learning_rate=2e-4, warmup_steps=10,
                lora={"enabled": True, "r": 16, "alpha": 32, "dropout": 0.0})
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
              f"Vision pretraining, held-out accuracy: {res['vision_pretraining']}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
