"""Write synthetic datasets to disk: LLaVA instruction data and preference pairs with images."""

from __future__ import annotations

import random
from pathlib import Path

from ...io import write_json_atomic, write_jsonl_atomic
from .questions import ALL_KINDS, KINDS, ask
from .scenes import draw_scene, sample_scene


def _sample(seed: int, count: int, root: Path, prefix: str, px: int, kinds=KINDS):
    rng = random.Random(seed)
    (root / "img").mkdir(parents=True, exist_ok=True)
    for i in range(count):
        scene = sample_scene(rng)
        q = ask(scene, rng, kinds)
        rel = f"img/{prefix}-{seed}-{i}.png"
        draw_scene(scene, px).save(root / rel)
        yield i, rel, scene, q


def write_preference_pairs(root: str | Path, *, seed: int, count: int, px: int = 32,
                           name: str = "pairs.jsonl") -> Path:
    """Single-image pairs: chosen is the true answer, rejected a wrong one. Returns the JSONL path."""
    root = Path(root)
    records = []
    for i, rel, scene, q in _sample(seed, count, root, "pair", px):
        records.append({
            "id": f"synth-{seed}-{i}",
            "images": [rel],
            "prompt": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": q.text}]}],
            "chosen": [{"role": "assistant", "content": [{"type": "text", "text": q.answer}]}],
            "rejected": [{"role": "assistant", "content": [{"type": "text", "text": q.wrong}]}],
            "meta": {"kind": q.kind, "shape": scene.shape, "colour": scene.colour},
        })
    path = root / name
    write_jsonl_atomic(path, records)
    return path


def write_llava_instructions(root: str | Path, *, seed: int, count: int, px: int = 32,
                             name: str = "llava.json", kinds=ALL_KINDS) -> Path:
    """Single-image instruction data in LLaVA-665k's format (a JSON list); every question kind,
    POPE-style object existence included."""
    root = Path(root)
    rows = []
    for i, rel, scene, q in _sample(seed, count, root, "inst", px, kinds):
        rows.append({
            "id": f"synth-inst-{seed}-{i}",
            "image": rel,
            "conversations": [
                {"from": "human", "value": f"<image>\n{q.text}"},
                {"from": "gpt", "value": q.answer},
            ],
            "meta": {"kind": q.kind, "shape": scene.shape, "colour": scene.colour},
        })
    path = root / name
    write_json_atomic(path, rows)
    return path


