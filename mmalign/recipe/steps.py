"""What each kind of recipe stage does: the library calls behind mmalign generate, score, pairs and train,
plus the few steps only loops need (a prompt slice, anchored pairs, Curry-DPO's stage files, merging a LoRA
adapter so the next round starts from, and is referenced against, a plain model).

Every step reads its parameters (`Stage.params`) and writes into `folder`; it returns a small dict that
goes into the stage's marker (counts for the summary).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import from_dict
from ..errors import MMAlignError
from ..io import read_jsonl, write_jsonl_atomic

PROMPTS_FILE = "prompts.jsonl"


def slice_prompts(p: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Round `iteration`'s fresh slice of `count` prompts from a seeded shuffle of the file (SPPO's
    different prompts per iteration)."""
    rows = read_jsonl(p["prompts"])
    start, count = (p["iteration"] - 1) * p["count"], p["count"]
    if start + count > len(rows):
        raise MMAlignError(f"{p['prompts']}: {len(rows)} prompts are too few for {p['iteration']} rounds of "
                           f"{count} (prompts_per_iteration); give more prompts or a smaller slice")
    order = list(range(len(rows)))
    random.Random(p["seed"]).shuffle(order)
    write_jsonl_atomic(folder / PROMPTS_FILE, [rows[i] for i in sorted(order[start:start + count])])
    return {"prompts": count}


def generate(p: dict[str, Any], folder: Path) -> dict[str, Any]:
    from ..pairs.candidates import generate_candidates

    summary = generate_candidates(p["data"], [p["model"]], folder, root=p["root"], n=p["n"],
                                  temperature=p["temperature"], top_p=p["top_p"], seed=p["seed"],
                                  max_new_tokens=p["max_new_tokens"], video_frames=p["video_frames"],
                                  device=p["device"])
    return {"prompts": summary["prompts"], "candidates": summary["candidates"]}


def score(p: dict[str, Any], folder: Path) -> dict[str, Any]:
    from ..judge import JudgeContext, score_candidates

    context = JudgeContext(root=Path(p["root"]), device=p["device"], video_frames=p["video_frames"])
    summary = score_candidates(p["data"], p["judges"], folder, context=context)
    return {"candidates": summary["candidates"], "judges": summary["judges"]}


def pairs(p: dict[str, Any], folder: Path) -> dict[str, Any]:
    from ..pairs.from_scores import make_pairs

    summary = make_pairs(p["data"], folder, p["rule"])
    return {"pairs": summary["pairs"], "prompts_without_pairs": summary["prompts_without_pairs"]}


def anchored(p: dict[str, Any], folder: Path) -> dict[str, Any]:
    from .anchored import anchored_pairs

    return anchored_pairs(p["chosen_from"], p["anchor"], folder)


def curry_split(p: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Curry-DPO's stage files from ranked pairs: stage-1.jsonl (largest score gaps, easiest) onwards; the
    pairs of stages beyond `stages` join the last one."""
    from ..data.transforms.curriculum import curry_pairs, split_stages

    staged = split_stages(curry_pairs(read_jsonl(p["data"]), min_gap=0.0))
    stages = [list(s) for s in staged[:p["stages"]]] + [[] for _ in range(p["stages"] - len(staged))]
    for extra in staged[p["stages"]:]:
        stages[-1] += extra
    counts = []
    for k, rows in enumerate(stages, 1):
        write_jsonl_atomic(folder / f"stage-{k}.jsonl", rows)
        counts.append(len(rows))
    return {"pairs": sum(counts), "stage_pairs": counts}


def train(p: dict[str, Any], folder: Path) -> dict[str, Any]:
    from ..train.config import TrainConfig
    from ..train.trainer import train as run_training

    if not read_jsonl(p["config"]["data"]):
        raise MMAlignError(f"{p['config']['data']}: no pairs to train on (every prompt's answers tied, or "
                           "no prompt had two scored answers); see the pairs stage's summary")
    result = run_training(from_dict(TrainConfig, {**p["config"], "output_dir": str(folder)}))
    return {"steps": result.steps, "eval": result.eval}


def merge(p: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A LoRA run's final adapter merged into its base and saved as a plain model folder: the next round's
    policy and reference (the adapter-disabled model of the next LoRA run is then exactly this model)."""
    from ..models.load import load

    loaded = load(p["model"])
    loaded.model.save_pretrained(folder)
    loaded.processor.save_pretrained(folder)
    return {"model": str(folder)}


STEPS: dict[str, Callable[[dict[str, Any], Path], dict[str, Any]]] = {
    "slice": slice_prompts, "generate": generate, "score": score, "pairs": pairs, "anchored": anchored,
    "curry-split": curry_split, "train": train, "merge": merge,
}
