"""synth-video: moving-shape clips with VideoHallucer-style basic/hallucinated yes/no pairs.

Every clip (`mmalign.data.synth.video`, one shape moving left/right/up/down) gets one pair per subset:

  object     "Is there a red circle in the video?" (yes) / the same shape in another colour, or
             another shape in the same colour (no);
  direction  "Does the red circle move left?" (yes) / the opposite direction (no);
  temporal   "Is the red circle on the right before it is on the left?" (yes: it starts on the right)
             / the order reversed (no), i.e. what the reversed clip would show.

Ids are `<subset>/<clip>/basic` and `<subset>/<clip>/hallucination`; truth `{"label", "pair",
"role"}`. Clips go to `root/vid/`, questions to `root/questions.jsonl`.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict
from pathlib import Path

from ...io import write_jsonl_atomic
from .scenes import COLOURS, SHAPES
from .video import OPPOSITE, VideoScene, sample_video_scene, write_video

VIDEO_SUBSETS = ("object", "direction", "temporal")
# Where the shape is at the start of a clip moving in each direction.
START_SIDE = {"left": "right", "right": "left", "up": "bottom", "down": "top"}
END_SIDE = {"left": "left", "right": "right", "up": "top", "down": "bottom"}


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def video_pair(scene: VideoScene, subset: str, rng: random.Random) -> tuple[str, str]:
    """(basic question, hallucinated question) of one subset; answers yes and no."""
    name = f"{scene.colour} {scene.shape}"
    if subset == "object":
        if rng.random() < 0.5:
            other = f"{rng.choice([c for c in sorted(COLOURS) if c != scene.colour])} {scene.shape}"
        else:
            other = f"{scene.colour} {rng.choice([s for s in SHAPES if s != scene.shape])}"
        return f"Is there {_a(name)} in the video?", f"Is there {_a(other)} in the video?"
    if subset == "direction":
        return (f"Does the {name} move {scene.direction}?",
                f"Does the {name} move {OPPOSITE[scene.direction]}?")
    if subset == "temporal":
        first, last = START_SIDE[scene.direction], END_SIDE[scene.direction]
        return (f"Is the {name} on the {first} before it is on the {last}?",
                f"Is the {name} on the {last} before it is on the {first}?")
    raise ValueError(f"unknown synth-video subset {subset!r}; valid: {', '.join(VIDEO_SUBSETS)}")


def video_rows(seed: int, count: int) -> tuple[list[VideoScene], list[dict]]:
    rng = random.Random(seed)
    n_clips = max(1, math.ceil(count / (2 * len(VIDEO_SUBSETS))))
    scenes = [sample_video_scene(rng) for _ in range(n_clips)]
    rows = []
    for i, scene in enumerate(scenes):
        rel = f"vid/synth-{seed}-{i}.mp4"
        for subset in VIDEO_SUBSETS:
            basic, hallucinated = video_pair(scene, subset, rng)
            for role, text, label in (("basic", basic, "yes"), ("hallucination", hallucinated, "no")):
                rows.append({"id": f"{subset}/{i}/{role}", "videos": [rel], "prompt": text, "subset": subset,
                             "truth": {"label": label, "pair": f"{subset}/{i}", "role": role,
                                       "scene": asdict(scene)}})
    return scenes, rows


def write_video_suite(root: str | Path, *, seed: int = 0, count: int = 2000, px: int = 64,
                      frames: int = 8, fps: int = 8) -> Path:
    """Write synth-video (≥ `count` questions, rounded up to whole clips of 6 questions) under `root`."""
    root = Path(root)
    scenes, rows = video_rows(seed, count)
    for i, scene in enumerate(scenes):
        write_video(root / f"vid/synth-{seed}-{i}.mp4", scene, frames=frames, px=px, fps=fps)
    path = root / "questions.jsonl"
    write_jsonl_atomic(path, rows)
    return path
