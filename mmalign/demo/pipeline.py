"""The demo pipeline. Every step is an ordinary mmalign command, printed before it runs:

  eval synth-pope / synth-multi (before) -> data synth llava -> build-data mia -> train (DPO + NLL, LoRA)
  -> eval synth-pope / synth-multi (after), for each seed; then the demo report.

The starting model is the reader base (`demo/reader_base.py`): a tiny LLaVA whose decoder read references
in text first, with a pad-to-square 64 px tower and caption alignment, then SFT on single images. It ships in
assets/demo/reader-llava; `mmalign demo --rebuild-base` (or a missing asset) builds it, about 27 minutes.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import MMAlignError

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "demo"
ASSET_MODEL = ASSETS / "reader-llava"
SFT_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "tiny" / "sft_llava.yaml"  # base.build_base


@dataclass(frozen=True)
class DemoSettings:
    seeds: int = 1
    selector: str = "attention"
    questions: int = 2000  # per suite
    source_rows: int = 18000  # LLaVA-format rows fed to build-data mia
    # The tiny model cannot tell collage cells apart even when trained on the true answers
    # (docs/demo_findings.md, section 4), so collage pairs only add noise; the suites still test collages.
    formats: str = "sequence,inset"
    # Its multi-image yes/no answers are a one-sided "no": the pairs would nearly all prefer "yes", and DPO on
    # them teaches "yes" to everything. Only open questions make pairs.
    open_only: bool = True
    replay: int = 1500  # single-image rows trained by the NLL term only (chosen = rejected)
    dpo_steps: int = 1200
    dpo_batch: int = 16
    learning_rate: float = 5e-4
    beta: float = 0.1
    sft_weight: float = 1.0  # MIA-DPO's gamma: NLL of the chosen answers (and of the replay rows)
    lora_r: int = 32
    batch_size: int = 64  # generation
    # MIA-DPO keeps a rejection only when its perplexity is above 1.1, a rule made for LLaVA's long answers.
    # The tiny model answers in one or two words and is confident even when wrong: the rule dropped 605 of
    # the 702 hallucinated answers of 1,500 rows, so the demo turns it off (negative = off).
    min_ppl: float = -1.0


QUICK = DemoSettings(questions=24, source_rows=24, replay=8, dpo_steps=2, dpo_batch=4, lora_r=4)


def run(argv: list[str]) -> None:
    """Run one mmalign command in-process, echoing it; a failure stops the demo (or the experiment
    scripts that reuse this)."""
    from ..cli.main import main

    print(f"\n$ mmalign {' '.join(shlex.quote(a) for a in argv)}", flush=True)
    code = main(argv)
    if code != 0:
        raise MMAlignError(f"step failed (exit {code}): mmalign {' '.join(argv)}")


def base_model(out: Path, *, rebuild: bool = False, quick: bool = False) -> Path:
    """The shipped starting model, or one built under OUT/base (`rebuild`, or when the asset is missing)."""
    if not rebuild and (ASSET_MODEL / "config.json").is_file():
        return ASSET_MODEL
    from .reader_base import QUICK_READER, ReaderRecipe, build_reader_base

    built = out / "base" / "sft" / "final"
    if (built / "config.json").is_file():
        return built
    print(f"building the starting model under {out / 'base'} (text, vision, join, captions, alignment, SFT)",
          flush=True)
    return build_reader_base(out / "base", QUICK_READER if quick else ReaderRecipe())


def evaluate(model: Path, out: Path, suites: Path, seed: int, s: DemoSettings) -> None:
    for suite in ("synth-pope", "synth-multi"):
        data = suites / suite
        args = ["eval", suite, "--model", str(model), "--out", str(out / suite), "--batch-size", str(s.batch_size),
                "--max-new-tokens", "6"]
        if not (data / "questions.jsonl").is_file():
            args += ["--make-data", str(data), "--seed", str(seed), "--count", str(s.questions)]
        else:
            args += ["--data", str(data / "questions.jsonl")]
        run(args)


def dpo_config(base: Path, pairs: Path, out: Path, seed: int, s: DemoSettings) -> Path:
    loss = {"name": "sigmoid", "beta": s.beta}
    if s.sft_weight:
        loss = {"name": "combo", "terms": [loss, {"name": "sft", "weight": s.sft_weight}]}
    cfg = {"model": str(base), "data": str(pairs / "pairs.jsonl"), "root": str(pairs), "output_dir": str(out),
           "extra_data": [str(pairs / "replay.jsonl")] if s.replay else [],
           "loss": loss, "learning_rate": s.learning_rate, "warmup_steps": 10,
           "per_device_batch_size": s.dpo_batch, "max_steps": s.dpo_steps, "max_length": 512, "seed": seed,
           "lora": {"enabled": True, "r": s.lora_r, "alpha": 2 * s.lora_r, "dropout": 0.0},
           "on_bad_record": "skip"}
    path = out.parent / "dpo.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def run_seed(base: Path, out: Path, seed: int, s: DemoSettings) -> Path:
    """One seed of the pipeline; returns the seed's folder (before/, pairs/, dpo/, after/)."""
    root = out / f"seed-{seed}"
    suites = out / "suites" / f"seed-{seed}"
    held_out = 1000 + seed  # questions never seen by SFT (seed 0) or pair building (seed)
    evaluate(base, root / "before", suites, held_out, s)
    source = root / "source"
    run(["data", "synth", "llava", "--out", str(source), "--seed", str(seed + 1), "--count", str(s.source_rows)])
    run(["build-data", "mia", "--data", str(source / "llava.json"), "--root", str(source), "--model", str(base),
         "--out", str(root / "pairs"), "--cell", "32", "--margin", "4", "--max-new-tokens", "8",
         "--batch-size", str(s.batch_size), "--seed", str(seed), "--selector", s.selector, "--min-ppl", str(s.min_ppl),
         "--formats", s.formats, "--replay", str(s.replay), *(["--open-only"] if s.open_only else []), "--no-progress"])
    run(["train", str(dpo_config(base, root / "pairs", root / "dpo", seed, s)), "progress=false"])
    evaluate(root / "dpo" / "final", root / "after", suites, held_out, s)
    return root
