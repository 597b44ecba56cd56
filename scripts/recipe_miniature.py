"""Self-Rewarding vs Temporal Self-Rewarding, and SPPO, in miniature (docs/recipe_miniature.md).

    .venv/bin/python scripts/recipe_miniature.py --out runs/recipe-mini [--seeds 0 1 2] [--quick]

The task: two images, "Describe the images.", answered "A red circle. A blue square."; the graded oracle
(`graded` judge, mmalign/judge/graded.py) counts the colours and shapes named right, 0-4.
The starting model (built once under OUT/start/, reused when present):
  1. assets/demo/reader-llava (a tiny LLaVA that reads one image's colour and shape) with its word
     tokenizer extended by "score" (rows of known words kept, so nothing it knows is lost);
  2. a short SFT (`mmalign train`, loss sft) on a mix of describe records (the task, too briefly to master it)
     and judge records (Self-Rewarding's EFT data): the additive 5-point prompt about one image pair and an
     answer, answered with a justification and a score built from the oracle (see `judge_target`).
SPPO, judged by the oracle, needs no judge records and a start with room to improve: its own start (OUT/
start-sppo/) is the same build with describe records only and fewer steps (`sppo_start_steps`).
Then, per seed, three `mmalign recipe` runs, 3 rounds each: self_rewarding and temporal_self_rewarding from
the judge's start with the model judging itself (`pointwise:model={policy}`), and sppo from its own start
judged by the graded oracle. Every round's model answers held-out prompts (`mmalign generate`; SPPO: more of
them), graded by the oracle: its mean score, and its win rate against its starting model's answers (same
prompts, same sample index, ties count half). OUT/miniature.csv and OUT/miniature.png hold the results (copied to docs/recipes/).
One thread (OMP_NUM_THREADS=1), one process.
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

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # the machine is shared (set before torch is imported)
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))  # the reporting helpers beside this file, also when a test imports it

import yaml
from recipe_miniature_report import RECIPES, chart, mean, num, read_csv, rounds_of, write_csv

from mmalign.cli.main import run_command as run
from mmalign.data.synth.scenes import COLOURS, SHAPES, Scene, draw_scene, sample_scene
from mmalign.io import read_jsonl, write_json_atomic, write_jsonl_atomic, write_text_atomic
from mmalign.judge.graded import attributes, graded_score

READER = REPO / "assets" / "demo" / "reader-llava"
QUESTION = "Describe the images."
JUDGE_PROMPT = (REPO / "mmalign" / "judge" / "prompts" / "self_rewarding_5point.txt").read_text()


@dataclass(frozen=True)
class Settings:
    objects: int = 2  # images per prompt; the oracle score is out of 2 x objects
    sft_describe: int = 256  # SFT records of the task (few: the start should be mediocre)
    sft_judge: int = 2560  # SFT records of the judge prompt (EFT)
    sft_steps: int = 400
    sft_lr: float = 1e-3
    judge_check: int = 48  # held-out prompts x 4 start answers: the judge's agreement with the oracle
    loop_prompts: int = 48  # prompts per round of Self-Rewarding and Temporal SR (the same each round)
    heldout: int = 64
    sppo_heldout: int = 256  # SPPO's held-out prompts (the first 64 are the others'): a win rate to +-0.01
    n: int = 4
    iterations: int = 3
    dpo_steps: int = 16
    dpo_lr: float = 2e-5
    batch: int = 16
    sr_judge: str = ""  # empty: the model judges itself; --quick: a noisy oracle, as its judge is untrained
    temperature: float = 0.7  # loop sampling (Self-Rewarding, SPPO); --quick: hotter, so answers differ
    # SPPO's arm has its own start: the judge's start scores 3.43 of 4, too near the ceiling for SPPO to raise
    # its win rate each round (docs/recipe_miniature.md); SPPO needs no judge records, only a short describe SFT.
    sppo_start_steps: int = 60  # describe-only SFT steps of SPPO's start (about 2.2 of 4 sampled)
    sppo_prompts: int = 192  # a fresh slice of this many prompts each round (48 gave ~35 pairs: too noisy)
    sppo_steps: int = 32
    sppo_lr: float = 3e-4  # 5e-5 and 1e-4 moved the policy too little per round to beat the evaluation's noise
    sppo_beta: float = 0.1  # eta 10: targets of +-5 nats; SPPO's 0.001 targets hundreds of nats on 8-token answers


QUICK = Settings(sr_judge="graded:noise=1", temperature=3.0, sft_describe=32, sft_judge=32, sft_steps=2,
                 judge_check=4, loop_prompts=6, heldout=4, n=3, iterations=1, dpo_steps=1, batch=4,
                 sppo_start_steps=2, sppo_prompts=6, sppo_steps=1, sppo_heldout=6)


# ------------------------------------------------------------------------------------------ the task

def answer(scenes) -> str:
    return " ".join(f"A {s.colour} {s.shape}." for s in scenes)


def corrupted(scenes, rng: random.Random, p: float) -> str:
    """An answer with each attribute swapped for a wrong one with probability p, sometimes cut short: the
    kinds of answer the judge will see."""
    parts = []
    for s in scenes:
        colour = rng.choice([c for c in sorted(COLOURS) if c != s.colour]) if rng.random() < p else s.colour
        shape = rng.choice([x for x in SHAPES if x != s.shape]) if rng.random() < p else s.shape
        parts.append(f"A {colour} {shape}.")
    return " ".join(parts[:rng.randint(1, len(parts))] if rng.random() < 0.15 else parts)


def judge_target(response: str, reference: str) -> str:
    """The judge's reply: each attribute the response names, in order, with yes/no against the truth, then
    the additive score (1 point for naming anything, 1 per attribute right; 1-5 with two objects). The
    justification lets a tiny model check one word at a time before it sums."""
    (colours, shapes), (ref_c, ref_s) = attributes(response), attributes(reference)
    words = []
    for k in range(len(ref_c)):
        for said, true in ((colours, ref_c), (shapes, ref_s)):
            if k < len(said):
                words.append(f"{said[k]} {'yes' if said[k] == true[k] else 'no'}")
    points = (1 if words else 0) + graded_score(response, reference)
    return f"{' '.join(words)}. Score: {points}"


def judge_prompt(response: str) -> str:
    return JUDGE_PROMPT.replace("{prompt}", QUESTION).replace("{response}", response)


def write_prompts(root: Path, name: str, seed: int, count: int, objects: int) -> list[dict]:
    """`count` prompt records with their images under root/img/; `reference` is the true description."""
    rng, rows = random.Random(seed), []
    (root / "img").mkdir(parents=True, exist_ok=True)
    for i in range(count):
        scenes = [sample_scene(rng) for _ in range(objects)]
        images = []
        for j, scene in enumerate(scenes):
            rel = f"img/{name}-{i}-{j}.png"
            if not (root / rel).is_file():
                draw_scene(scene).save(root / rel)
            images.append(rel)
        rows.append({"id": f"{name}-{i}", "images": images, "prompt": "<image>\n" * objects + QUESTION,
                     "reference": answer(scenes), "scenes": [[s.colour, s.shape] for s in scenes]})
    write_jsonl_atomic(root / f"{name}.jsonl", rows)
    return rows


def sft_records(rows: list[dict], describe: int, judge: int, seed: int) -> list[dict]:
    """Describe records (answer = reference) then judge records (EFT) on other prompts, shuffled."""
    rng, out = random.Random(seed), []
    for r in rows[:describe]:
        out.append({"id": f"describe-{r['id']}", "images": r["images"], "prompt": r["prompt"],
                    "chosen": r["reference"], "rejected": "No."})
    for r in rows[describe:describe + judge]:
        scenes = [Scene(s, c, 0.5, 0.5, 0.3) for c, s in r["scenes"]]  # only colour and shape are read
        response = corrupted(scenes, rng, p=rng.choice((0.0, 0.25, 0.5, 0.75)))
        out.append({"id": f"judge-{r['id']}", "images": r["images"],
                    "prompt": "<image>\n" * len(r["images"]) + judge_prompt(response),
                    "chosen": judge_target(response, r["reference"]), "rejected": "Score: 0"})
    rng.shuffle(out)
    return out


# ------------------------------------------------------------------------------------------ the start

def extend_tokenizer(src: Path, dst: Path, words: list[str]) -> Path:
    """A copy of model `src` whose word tokenizer also knows `words`; known words keep their trained rows
    (the word tokenizer sorts its vocabulary, so ids move and rows are copied by word)."""
    import torch

    from mmalign.data.synth import vocabulary
    from mmalign.models import load
    from mmalign.models.tokenizer import build_word_tokenizer

    loaded = load(src, device="cpu")
    old = loaded.processor.tokenizer.get_vocab()
    new_tok = build_word_tokenizer(vocabulary() + sorted(set(old) - set(vocabulary()) - {"<unk>"}) + words)
    new = new_tok.get_vocab()
    model = loaded.model
    emb_in, emb_out = model.get_input_embeddings().weight.data.clone(), model.get_output_embeddings().weight.data.clone()
    model.resize_token_embeddings(len(new_tok))
    torch.manual_seed(0)
    with torch.no_grad():
        for word, i in new.items():
            j = old.get(word)
            model.get_input_embeddings().weight[i] = emb_in[j] if j is not None else emb_in.mean(0)
            model.get_output_embeddings().weight[i] = emb_out[j] if j is not None else emb_out.mean(0)
    for cfg in (model.config, model.config.text_config, model.generation_config):
        for key in ("pad_token_id", "bos_token_id", "eos_token_id"):
            if getattr(cfg, key, None) is not None:
                setattr(cfg, key, getattr(new_tok, key))
    model.config.image_token_id = new_tok.convert_tokens_to_ids("<image>")
    loaded.processor.tokenizer = new_tok
    model.save_pretrained(dst)
    loaded.processor.save_pretrained(dst)
    return dst


def build_start(out: Path, s: Settings, name: str = "start") -> Path:
    """The starting model (module docstring) in OUT/name, cached: a finished build with the same settings is
    reused."""
    keys = ("objects", "sft_describe", "sft_judge", "sft_steps", "sft_lr", "batch")
    folder, stamp = out / name, {"settings": {k: getattr(s, k) for k in keys}, "reader": str(READER)}
    done = folder / "built.json"
    if done.is_file() and json.loads(done.read_text()) == stamp:
        return folder / "sft" / "final"
    rows = write_prompts(folder / "data", "sft", seed=100, count=s.sft_describe + s.sft_judge, objects=s.objects)
    write_jsonl_atomic(folder / "data" / "sft-mix.jsonl", sft_records(rows, s.sft_describe, s.sft_judge, seed=0))
    extend_tokenizer(READER, folder / "base", ["score"])
    run(["train", str(REPO / "configs" / "tiny" / "sft_llava.yaml"), f"model={folder / 'base'}",
         f"data={folder / 'data' / 'sft-mix.jsonl'}", "data_format=preference", f"output_dir={folder / 'sft'}",
         f"max_steps={s.sft_steps}", f"per_device_batch_size={s.batch}", f"learning_rate={s.sft_lr}",
         "warmup_steps=10", "max_length=640", "save_steps=0", "progress=false", "overwrite=true"])
    write_json_atomic(done, stamp)
    return folder / "sft" / "final"


# ------------------------------------------------------------------------------------------ measuring

def self_judge(model: str) -> str:
    # Self-Rewarding's judge: 3 samples at temperature 0.7, averaged; the reply is short (a justification
    # of up to 4 checked words and the score).
    return f"pointwise:model={model},samples=3,name=self,max_new_tokens=16"


def answers(model: str, prompts: Path, folder: Path, n: int, seed: int) -> list[dict]:
    """`n` sampled answers per held-out prompt (cached by `mmalign generate`'s own settings check)."""
    if not (folder / "candidates.jsonl").is_file():
        run(["generate", "--model", model, "--data", str(prompts), "--out", str(folder), "--n", str(n),
             "--temperature", "0.7", "--top-p", "0.9", "--max-new-tokens", "16", "--seed", str(seed),
             "--device", "cpu"])
    return read_jsonl(folder / "candidates.jsonl")


def oracle_scores(records: list[dict]) -> dict[str, list[int]]:
    return {r["id"]: [graded_score(c["text"], r["reference"]) for c in r["candidates"]] for r in records}


def win_rate(model: dict[str, list[int]], start: dict[str, list[int]]) -> float:
    """Answer k of the model against answer k of the start, per prompt; a tie counts half."""
    votes = [1.0 if a > b else 0.5 if a == b else 0.0
             for key in model for a, b in zip(model[key], start[key])]
    return round(sum(votes) / len(votes), 4)


def judge_check(start: str, out: Path, s: Settings) -> dict:
    """The start model as a judge before any loop: its 5-point scores of its own sampled answers against the
    oracle's (1 + attributes right, the score the EFT data taught)."""
    folder = out / "judge-check"
    write_prompts(folder, "check", seed=300, count=s.judge_check, objects=s.objects)
    answers(start, folder / "check.jsonl", folder / "answers", 4, 0)
    if not (folder / "scored" / "scored.jsonl").is_file():
        run(["score", "--judge", self_judge(start), "--judge", "graded", "--data",
             str(folder / "answers" / "candidates.jsonl"), "--root", str(folder), "--out", str(folder / "scored"),
             "--device", "cpu"])
    judged, exact, pairs, agree, parsed = 0, 0, 0, 0.0, 0
    for r in read_jsonl(folder / "scored" / "scored.jsonl"):
        sc = [(c["scores"].get("self"), c["scores"]["graded"]) for c in r["candidates"]]
        for j, o in sc:
            judged += 1
            if j is not None:
                parsed += 1
                exact += abs(j - (o + 1)) < 0.5
        for a in range(len(sc)):
            for b in range(a + 1, len(sc)):
                (ja, oa), (jb, ob) = sc[a], sc[b]
                if None not in (ja, jb) and oa != ob:
                    pairs += 1
                    agree += 1.0 if (ja - jb) * (oa - ob) > 0 else 0.5 if ja == jb else 0.0
    return {"answers": judged, "parsed": round(parsed / judged, 4), "exact": round(exact / max(parsed, 1), 4),
            "pair_agreement": round(agree / pairs, 4) if pairs else None, "pairs": pairs}


# ------------------------------------------------------------------------------------------ the loops

def recipe_config(recipe: str, start: str, data: Path, out: Path, seed: int, s: Settings) -> Path:
    sppo = recipe == "sppo"
    train = {"max_steps": s.sppo_steps if sppo else s.dpo_steps, "per_device_batch_size": s.batch,
             "learning_rate": s.sppo_lr if sppo else s.dpo_lr, "warmup_steps": 0, "progress": False,
             "freeze_vision_tower": True}
    cfg = {"recipe": recipe, "model": start, "prompts": str(data), "output_dir": str(out / recipe),
           "iterations": s.iterations, "seed": seed, "device": "cpu",
           "prompts_per_iteration": s.sppo_prompts if sppo else 0,
           "sample": {"n": s.n, "max_new_tokens": 16, "temperature": s.temperature},
           # SPPO's preference model is an outside judge (the paper: PairRM); here the graded oracle.
           "judges": ["graded"] if sppo else [s.sr_judge or self_judge("{policy}")],
           "train": {**train, "loss": {"name": "sppo", "beta": s.sppo_beta}} if sppo else train}
    path = out / f"{recipe}.yaml"
    write_text_atomic(path, yaml.safe_dump(cfg, sort_keys=False))
    return path


def run_seed(seed: int, starts: dict[str, tuple], out: Path, s: Settings) -> list[dict]:
    """The three recipes for one seed, each from its start (`starts`: recipe -> model, held-out prompts, the
    start's scores on them); a row per (recipe, iteration)."""
    folder = out / f"seed-{seed}"
    # SPPO takes a fresh slice each round; Self-Rewarding and Temporal SR the first slice every round (the
    # first records do not depend on the count, so a larger SPPO slice leaves their prompts unchanged).
    data = write_prompts(folder / "data", "loop", seed=1000 + seed,
                         count=max(s.loop_prompts, s.sppo_prompts) * s.iterations, objects=s.objects)
    rows = []
    for recipe in RECIPES:
        began, (start, heldout, start_scores) = time.monotonic(), starts[recipe]
        prompts = folder / "data" / "loop.jsonl"
        if recipe != "sppo":  # Self-Rewarding and Temporal SR: the same prompts every round
            write_jsonl_atomic(folder / "data" / "loop-fixed.jsonl", data[:s.loop_prompts])
            prompts = folder / "data" / "loop-fixed.jsonl"
        run(["recipe", str(recipe_config(recipe, start, prompts, folder, seed, s))])
        summary = {int(r["iteration"]): r for r in read_csv(folder / recipe / "summary.csv")}
        for t in range(1, s.iterations + 1):
            model = str(folder / recipe / f"iter-{t}" / "train" / "final")
            scores = oracle_scores(answers(model, heldout, folder / recipe / f"heldout-{t}", s.n, 7))
            rnd = summary[t]
            rows.append({"seed": seed, "recipe": recipe, "iteration": t, "pairs": int(rnd["pairs"]),
                         "judge_gap": num(rnd["judge_gap"]),
                         "policy_samples_graded": mean(graded_score(c["text"], r["reference"])
                                                       for r in read_jsonl(folder / recipe / f"iter-{t}" /
                                                                           "generate" / "candidates.jsonl")
                                                       for c in r["candidates"]),
                         "heldout_graded": mean(v for vs in scores.values() for v in vs),
                         "win_rate_vs_start": win_rate(scores, start_scores),
                         "seconds": round(time.monotonic() - began, 1) if t == s.iterations else None})
    return rows


# ------------------------------------------------------------------------------------------ main

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="working folder (start models, runs, results)")
    parser.add_argument("--seeds", type=int, nargs="+", help="loop seeds (default 0 1 2; --quick: 0)")
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run with tiny settings")
    args = parser.parse_args()
    s, out, began = QUICK if args.quick else Settings(), Path(args.out), time.monotonic()
    args.seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    start = str(build_start(out, s))
    built = time.monotonic()
    sppo_start = str(build_start(out, replace(s, sft_judge=0, sft_steps=s.sppo_start_steps), "start-sppo"))
    sppo_built = time.monotonic()
    check = judge_check(start, out, s)
    # one draw (ids heldout-i, the first s.heldout as before); SPPO's file holds all of it
    held = write_prompts(out / "heldout", "heldout", seed=200, count=max(s.heldout, s.sppo_heldout),
                         objects=s.objects)
    write_jsonl_atomic(out / "heldout" / "heldout-sppo.jsonl", held)
    write_jsonl_atomic(out / "heldout" / "heldout.jsonl", held[:s.heldout])
    starts, graded = {}, {}
    for recipe in RECIPES:  # the start's answers to the held-out prompts: what each round is compared with
        model, name = (sppo_start, "start-sppo") if recipe == "sppo" else (start, "start")
        heldout = out / "heldout" / ("heldout-sppo.jsonl" if recipe == "sppo" else "heldout.jsonl")
        starts[recipe] = (model, heldout, oracle_scores(answers(model, heldout, out / "heldout" / name, s.n, 7)))
        graded[recipe] = mean(v for vs in starts[recipe][2].values() for v in vs)
    rows = [{"seed": seed, "recipe": recipe, "iteration": 0, "pairs": None, "judge_gap": None,
             "policy_samples_graded": None, "heldout_graded": graded[recipe], "win_rate_vs_start": 0.5,
             "seconds": None} for seed in args.seeds for recipe in RECIPES]
    for seed in args.seeds:
        rows += run_seed(seed, starts, out, s)
    rows.sort(key=lambda r: (r["recipe"], r["seed"], r["iteration"]))
    write_csv(rows, out / "miniature.csv")
    chart(rows, {"start (SR, TSR)": graded["self_rewarding"], "start (SPPO)": graded["sppo"]},
          out / "miniature.png", f"recipe miniature: {len(args.seeds)} seeds, describe 2 images; SR and TSR: "
          "tiny LLaVA judging itself; SPPO: graded oracle, its own weaker start")
    results = {"settings": asdict(s), "seeds": args.seeds, "start_build_s": round(built - began, 1),
               "sppo_start_build_s": round(sppo_built - built, 1), "total_s": round(time.monotonic() - began, 1),
               "judge_check": check, "start_heldout_graded": graded["self_rewarding"],
               "sppo_start_heldout_graded": graded["sppo"], "sppo_win_rate": rounds_of(rows, "sppo"),
               "sppo_heldout_graded": rounds_of(rows, "sppo", "heldout_graded"), "rows": rows}
    write_json_atomic(out / "results.json", results)
    print(json.dumps({k: v for k, v in results.items() if k != "rows"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
