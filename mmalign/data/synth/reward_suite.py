"""Synthetic reward suites with known truth: `synth-reward` (images) and `synth-reward-video` (clips).

Each item is a question about a synthetic scene with two responses: `chosen` states the truth, `rejected`
a plausible falsehood (a hallucination: another colour, another shape, the wrong yes/no, the opposite
direction). One line per item in `root/questions.jsonl`:

    {"id": "colour/3", "images": ["img/reward-0-3.png"], "prompt": "What colour is the circle?",
     "subset": "colour", "truth": {"chosen": "Red.", "rejected": "Blue.", "reference": "Red."}}

synth-reward: one-shape 32 px scenes, subsets colour / shape / exists (`synth.ask`).
synth-reward-video: moving-shape clips (64 px, 8 frames, MP4; needs PyAV), subsets object ("What is
moving in the video?": the shape in its colour vs another colour) and direction ("Which way does the red
circle move?": its direction vs the opposite). Everything follows from (seed, count, px).
"""

from __future__ import annotations

import random
from pathlib import Path

from ...io import write_jsonl_atomic
from .questions import ask
from .scenes import COLOURS, draw_scene, sample_scene
from .suites import QUESTIONS_FILE
VIDEO_SUBSETS = ("object", "direction")


def _item(item_id: str, kind: str, media: list[str], prompt: str, subset: str, chosen: str, rejected: str) -> dict:
    return {"id": item_id, kind: media, "prompt": prompt, "subset": subset,
            "truth": {"chosen": chosen, "rejected": rejected, "reference": chosen}}


def write_reward_suite(root: str | Path, *, seed: int = 0, count: int = 2000, px: int = 32) -> Path:
    """Write synth-reward (`count` image items) under `root`; returns the questions file."""
    root = Path(root)
    (root / "img").mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        scene = sample_scene(rng)
        q = ask(scene, rng)
        rel = f"img/reward-{seed}-{i}.png"
        draw_scene(scene, px).save(root / rel)
        rows.append(_item(f"{q.kind}/{i}", "images", [rel], q.text, q.kind, q.answer, q.wrong))
    path = root / QUESTIONS_FILE
    write_jsonl_atomic(path, rows)
    return path


def write_reward_video_suite(root: str | Path, *, seed: int = 0, count: int = 2000, px: int = 64,
                             frames: int = 8) -> Path:
    """Write synth-reward-video (`count` items, two per clip, rounded up) under `root`."""
    from .video import OPPOSITE, sample_video_scene, write_video

    root = Path(root)
    rng = random.Random(seed)
    rows = []
    for i in range((count + 1) // 2):
        scene = sample_video_scene(rng)
        rel = f"vid/reward-{seed}-{i}.mp4"
        write_video(root / rel, scene, frames=frames, px=px)
        other = rng.choice([c for c in sorted(COLOURS) if c != scene.colour])
        rows.append(_item(f"object/{i}", "videos", [rel], "What is moving in the video?", "object",
                          f"A {scene.colour} {scene.shape}.", f"A {other} {scene.shape}."))
        name = f"{scene.colour} {scene.shape}"
        rows.append(_item(f"direction/{i}", "videos", [rel], f"Which way does the {name} move?", "direction",
                          f"It moves {scene.direction}.", f"It moves {OPPOSITE[scene.direction]}."))
    path = root / QUESTIONS_FILE
    write_jsonl_atomic(path, rows)
    return path
