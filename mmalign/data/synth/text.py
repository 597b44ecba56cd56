"""Text-only synthetic preference pairs with known answers (for text models and text objectives)."""

from __future__ import annotations

import random
from pathlib import Path

from ...io import write_jsonl_atomic

NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEXT_WORDS = ["number", "comes", "after", "before"]


def text_pair(rng: random.Random) -> dict:
    i = rng.randrange(1, len(NUMBERS) - 1)
    after = rng.random() < 0.5
    truth = NUMBERS[i + 1] if after else NUMBERS[i - 1]
    wrong = rng.choice([n for n in NUMBERS if n != truth])
    question = f"What number comes {'after' if after else 'before'} {NUMBERS[i]}?"
    return {"prompt": question, "chosen": f"{truth.capitalize()}.", "rejected": f"{wrong.capitalize()}.",
            "meta": {"kind": "after" if after else "before"}}


def write_text_pairs(root: str | Path, *, seed: int, count: int, name: str = "pairs.jsonl") -> Path:
    rng = random.Random(seed)
    rows = [{"id": f"text-{seed}-{i}", **text_pair(rng)} for i in range(count)]
    path = Path(root) / name
    write_jsonl_atomic(path, rows)
    return path
