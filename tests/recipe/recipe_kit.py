"""Shared settings for the recipe tests: every shipped recipe at a tiny size on the tiny LLaVA."""

from __future__ import annotations

import json
from pathlib import Path

from mmalign.recipe import load_recipe_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "recipes"
RECIPES = ["self_rewarding", "temporal_self_rewarding", "sppo", "curry_dpo", "iterative_dpo"]


def tiny_overrides(model, prompts, out, **extra) -> list[str]:
    """A shipped config shrunk for a test: 2 rounds, 3 samples of 6 tokens, 2 training steps of 2 pairs, fp32,
    no LoRA, a noisy oracle as the judge (a random tiny model cannot judge itself)."""
    base = {"model": model, "prompts": prompts, "output_dir": out, "iterations": 2, "sample.n": 3,
            "sample.max_new_tokens": 6, "sample.temperature": 1.0, "sample.top_p": 1.0, "judges": '["oracle:noise=2"]',
            "future_samples": 3, "curry_stages": 2, "prompts_per_iteration": 0, "device": "cpu", "train.max_steps": 2,
            "train.num_epochs": 1, "train.per_device_batch_size": 2, "train.gradient_accumulation_steps": 1,
            "train.precision": "fp32", "train.gradient_checkpointing": False, "train.lora.enabled": False,
            "train.learning_rate": 1e-3, "train.warmup_ratio": 0.0, "train.progress": False, "train.max_length": 512}
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]


def tiny_recipe(name: str, model, prompts, out, **extra):
    return load_recipe_config(CONFIGS / f"{name}.yaml", tiny_overrides(model, prompts, out, **extra))


def metrics(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def few_prompts(synth_pairs, folder: Path, count: int = 6) -> str:
    """The first `count` synthetic prompts (with their images' root beside them): quicker rounds."""
    data, root = synth_pairs
    lines = Path(data).read_text().splitlines()[:count]
    out = Path(root) / f"first-{count}.jsonl"
    if not out.exists():
        out.write_text("\n".join(lines) + "\n")
    return str(out)
