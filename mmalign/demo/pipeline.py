"""The demo pipeline. Every step is a library call, printed as the mmalign command that does the same:

  eval synth-pope / synth-multi (before) -> data synth llava -> build-data mia -> train (DPO + NLL, LoRA)
  -> eval synth-pope / synth-multi (after), for each seed; then the demo report.

The starting model is the reader base (`demo/reader_base.py`): a tiny LLaVA whose decoder read references
in text first, with a pad-to-square 64 px tower and caption alignment, then SFT on single images. It ships in
assets/demo/reader-llava; `mmalign demo --rebuild-base` (or a missing asset) builds it, about 27 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .steps import eval_step, mia_step, synth_llava_step, train_step

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "demo"
ASSET_MODEL = ASSETS / "reader-llava"


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
    # Pairs balanced by answer word before training: the kinds to balance; empty = off. Colour by default: left
    # unbalanced, DPO + NLL learns the pairs' lopsided colour words as a prior, and balancing them gained 2.3,
    # 1.9 and 0.9 multi-image points over the unbalanced run on the 3 seeds (docs/demo_findings.md, section 5).
    balance_answers: str = "colour"
    # The controls of docs/demo_findings.md beside the method, same seeds, steps and balancing: an NLL-only run
    # on the same pairs' chosen answers (no preference term) and a build with random rejection selection.
    controls: bool = False


QUICK = DemoSettings(questions=24, source_rows=24, replay=8, dpo_steps=2, dpo_batch=4, lora_r=4)


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
        eval_step(suite, model, out / suite, suites / suite, seed=seed, count=s.questions, batch_size=s.batch_size)


CONTROL_ARMS = ("nll_only", "random_selection")


def preference_loss(s: DemoSettings) -> dict:
    """DPO, plus MIA-DPO's NLL term on the chosen answers when its weight is set."""
    loss = {"name": "sigmoid", "beta": s.beta}
    if s.sft_weight:
        loss = {"name": "combo", "terms": [loss, {"name": "sft", "weight": s.sft_weight}]}
    return loss


def nll_only_loss(s: DemoSettings) -> dict:
    """The control without a preference term: the chosen answers' NLL at the weight it has beside DPO (1 when
    the method has none), so the two runs' NLL gradients are the same size."""
    return {"name": "combo", "terms": [{"name": "sft", "weight": s.sft_weight or 1.0}]}


def dpo_config(base: Path, pairs: Path, out: Path, seed: int, s: DemoSettings, loss: dict | None = None) -> Path:
    loss = loss or preference_loss(s)
    cfg = {"model": str(base), "data": str(pairs / "pairs.jsonl"), "root": str(pairs), "output_dir": str(out),
           "extra_data": [str(pairs / "replay.jsonl")] if s.replay else [],
           "loss": loss, "learning_rate": s.learning_rate, "warmup_steps": 10,
           "per_device_batch_size": s.dpo_batch, "max_steps": s.dpo_steps, "max_length": 512, "seed": seed,
           "lora": {"enabled": True, "r": s.lora_r, "alpha": 2 * s.lora_r, "dropout": 0.0},
           "on_bad_record": "skip", "overwrite": True}  # a rerun of the demo trains this step again
    if s.balance_answers:
        cfg["transforms"] = [{"name": "balance_answers", "kinds": s.balance_answers}]
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
    source = synth_llava_step(root / "source", seed + 1, s.source_rows)
    mia_step(source, base, root / "pairs", seed=seed, formats=s.formats, selector=s.selector, min_ppl=s.min_ppl,
             replay=s.replay, open_only=s.open_only, batch_size=s.batch_size)
    train_step(dpo_config(base, root / "pairs", root / "dpo", seed, s))
    evaluate(root / "dpo" / "final", root / "after", suites, held_out, s)
    if s.controls:
        run_controls(base, root, source, suites, held_out, seed, s)
    return root


def arm_dir(seed_dir: Path, arm: str) -> Path:
    """Where an arm's dpo/ and after/ live: the seed's folder for the method, controls/ARM for a control."""
    return seed_dir if arm == "mia_dpo" else seed_dir / "controls" / arm


def run_controls(base: Path, root: Path, source: Path, suites: Path, held_out: int, seed: int,
                 s: DemoSettings) -> None:
    """The two controls of one seed, on the seed's source rows and held-out questions."""
    nll = arm_dir(root, "nll_only")
    train_step(dpo_config(base, root / "pairs", nll / "dpo", seed, s, loss=nll_only_loss(s)))
    evaluate(nll / "dpo" / "final", nll / "after", suites, held_out, s)
    rnd = arm_dir(root, "random_selection")
    mia_step(source, base, rnd / "pairs", seed=seed, formats=s.formats, selector="random",
             min_ppl=s.min_ppl, replay=s.replay, open_only=s.open_only, batch_size=s.batch_size)
    train_step(dpo_config(base, rnd / "pairs", rnd / "dpo", seed, s))
    evaluate(rnd / "dpo" / "final", rnd / "after", suites, held_out, s)
