"""Synthetic evaluation suites with known truth: `synth-pope` and `synth-multi` (and `synth-video`).

Each writer puts images under `root/img/` and one JSON line per question in `root/questions.jsonl`:

    {"id": ..., "images": [...], "prompt": "...", "subset": ..., "truth": {...}}

(`synth-video` writes `"videos"` instead of `"images"`). `mmalign.eval` reads these files back as the
benchmarks of the same names. Everything follows from `(seed, count, px)`.

synth-pope: POPE-style existence questions about one-object scenes. Every image is asked, in each
split, one question whose answer is yes and one whose answer is no. Question kinds alternate per image:
"object" ("Is there a circle in the image?") and "colour" ("Is there a red circle in the image?").
Negatives per split:
  random       a uniformly drawn object that is not in the image;
  popular      drawn from the 3 objects most frequent in the split (not in the image);
  adversarial  the object that co-occurs most with what is in the image: for "object" questions the
               shape seen most often in the split with the image's colour; for "colour" questions the
               same shape in the colour seen most often with that shape (ties: alphabetical).

synth-multi: one question about one image among several, in three formats built with `mmalign.augment`:
"sequence" (2-4 separate images), "collage" (a labelled 2-4 cell grid) and "inset" (the target
pasted into the centre of a background scene). The question is `synth.ask(target)`; the first
distractor is built to hold the question's wrong answer (the other colour of the same shape, the
other shape, or the very object asked about when the answer is "No"), so answering with what a
distractor shows is measurable as a hallucination.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from pathlib import Path

from ...io import write_jsonl_atomic
from .questions import ask
from .scenes import COLOURS, SHAPES, Scene, draw_scene, sample_scene

POPE_SPLITS = ("random", "popular", "adversarial")
POPE_KINDS = ("object", "colour")
MULTI_FORMATS = ("sequence", "collage", "inset")
DEFAULT_COUNT = 2000
QUESTIONS_FILE = "questions.jsonl"


# ---------------------------------------------------------------------------------------- synth-pope

def _key(scene: Scene, kind: str) -> str:
    return scene.shape if kind == "object" else f"{scene.colour} {scene.shape}"


def _all_keys(kind: str) -> list[str]:
    if kind == "object":
        return list(SHAPES)
    return [f"{c} {s}" for c in sorted(COLOURS) for s in SHAPES]


def pope_negative(scene: Scene, kind: str, split: str, scenes: list[Scene], rng: random.Random) -> str:
    """The object a `split` negative asks about for `scene` (never the object in the image)."""
    truth = _key(scene, kind)
    others = [k for k in _all_keys(kind) if k != truth]
    if split == "random":
        return rng.choice(others)
    if split == "popular":
        freq = Counter(_key(s, kind) for s in scenes)
        ranked = sorted(others, key=lambda k: (-freq[k], k))
        return rng.choice(ranked[:3])
    if split == "adversarial":
        if kind == "object":  # shapes that co-occur with this colour
            freq = Counter(s.shape for s in scenes if s.colour == scene.colour)
            return min(others, key=lambda k: (-freq[k], k))
        freq = Counter(s.colour for s in scenes if s.shape == scene.shape)  # same shape, other colour
        colours = [c for c in sorted(COLOURS) if c != scene.colour]
        return f"{min(colours, key=lambda c: (-freq[c], c))} {scene.shape}"
    raise ValueError(f"unknown POPE split {split!r}; valid: {', '.join(POPE_SPLITS)}")


def pope_rows(seed: int, count: int = DEFAULT_COUNT) -> tuple[list[Scene], list[dict]]:
    """Scenes and question rows (image paths `img/pope-<seed>-<i>.png`) for `count` questions or more."""
    rng = random.Random(seed)
    n_images = max(1, math.ceil(count / (2 * len(POPE_SPLITS))))
    scenes = [sample_scene(rng) for _ in range(n_images)]
    rows = []
    for split in POPE_SPLITS:
        for i, scene in enumerate(scenes):
            kind = POPE_KINDS[i % len(POPE_KINDS)]
            negative = pope_negative(scene, kind, split, scenes, rng)
            for label, obj in (("yes", _key(scene, kind)), ("no", negative)):
                article = "an" if obj[0] in "aeiou" else "a"
                rows.append({
                    "id": f"{split}/{i}-{label}",
                    "images": [f"img/pope-{seed}-{i}.png"],
                    "prompt": f"Is there {article} {obj} in the image?",
                    "subset": split,
                    "truth": {"label": label, "kind": kind, "object": obj,
                              "in_image": _key(scene, kind)},
                })
    return scenes, rows


def write_pope_suite(root: str | Path, *, seed: int = 0, count: int = DEFAULT_COUNT, px: int = 32) -> Path:
    """Write synth-pope (≥ `count` questions, rounded up to whole images) under `root`."""
    root = Path(root)
    (root / "img").mkdir(parents=True, exist_ok=True)
    scenes, rows = pope_rows(seed, count)
    for i, scene in enumerate(scenes):
        draw_scene(scene, px).save(root / f"img/pope-{seed}-{i}.png")
    path = root / QUESTIONS_FILE
    write_jsonl_atomic(path, rows)
    return path


# --------------------------------------------------------------------------------------- synth-multi

def _asked_object(text: str) -> tuple[str, str]:
    """(colour, shape) named in an existence question."""
    words = text.lower().replace("?", " ").split()
    return next(w for w in words if w in COLOURS), next(w for w in words if w in SHAPES)


def lure_scene(target: Scene, q, rng: random.Random) -> Scene:
    """A distractor scene that holds the question's wrong answer."""
    base = sample_scene(rng)
    if q.kind == "colour":
        colour, shape = q.wrong.strip(".").lower(), target.shape
    elif q.kind == "shape":
        shape, colour = q.wrong.strip(".").lower().split()[-1], base.colour
    elif q.answer == "No.":
        colour, shape = _asked_object(q.text)
    else:  # the target is the asked object: the lure differs in colour
        shape, colour = target.shape, rng.choice([c for c in sorted(COLOURS) if c != target.colour])
    return Scene(shape, colour, base.cx, base.cy, base.size)


def multi_truth(target: Scene, distractors: list[Scene], q) -> dict:
    """Answer of the question and the answers that would be true of a distractor only."""
    if q.kind == "colour":
        answer, lures = target.colour, {d.colour for d in distractors}
    elif q.kind == "shape":
        answer, lures = target.shape, {d.shape for d in distractors}
    else:
        colour, shape = _asked_object(q.text)
        answer = "yes" if (target.colour, target.shape) == (colour, shape) else "no"
        lures = {"yes"} if any((d.colour, d.shape) == (colour, shape) for d in distractors) else set()
    return {"kind": q.kind, "answer": answer, "distractor_answers": sorted(lures - {answer}),
            "target": {"colour": target.colour, "shape": target.shape},
            "distractors": [{"colour": d.colour, "shape": d.shape} for d in distractors]}


def multi_sample(i: int, seed: int, rng: random.Random, px: int):
    """(format, Augmented, truth) for question `i`."""
    from ...augment import grid_collage, pic_in_pic, sequence

    fmt = MULTI_FORMATS[i % len(MULTI_FORMATS)]
    target = sample_scene(rng)
    q = ask(target, rng)
    aug_seed = rng.randrange(2**31)
    if fmt == "inset":  # background object in a corner, clear of the centred inset
        lure = lure_scene(target, q, rng)
        cx, cy = rng.choice((0.15, 0.85)), rng.choice((0.15, 0.85))
        bg = Scene(lure.shape, lure.colour, cx, cy, 0.1)
        aug = pic_in_pic(draw_scene(target, px), draw_scene(bg, 2 * px), q.text, seed=aug_seed, scale=0.5)
        return fmt, aug, multi_truth(target, [bg], q)
    distractors = [lure_scene(target, q, rng)] + [sample_scene(rng) for _ in range(rng.randint(0, 2))]
    images = [draw_scene(d, px) for d in distractors]
    if fmt == "sequence":
        aug = sequence(draw_scene(target, px), images, q.text, seed=aug_seed)
    else:
        aug = grid_collage(draw_scene(target, px), images, q.text, seed=aug_seed, cell=px, margin=4)
    return fmt, aug, multi_truth(target, distractors, q)


def write_multi_suite(root: str | Path, *, seed: int = 0, count: int = DEFAULT_COUNT, px: int = 32) -> Path:
    """Write synth-multi (`count` questions, formats cycling) under `root`."""
    root = Path(root)
    (root / "img").mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        fmt, aug, truth = multi_sample(i, seed, rng, px)
        rels = []
        for j, image in enumerate(aug.images):
            rel = f"img/multi-{seed}-{i}-{j}.png"
            image.save(root / rel)
            rels.append(rel)
        truth.update(aug.meta())
        rows.append({"id": f"{fmt}/{i}", "images": rels, "prompt": aug.prompt, "subset": fmt, "truth": truth})
    path = root / QUESTIONS_FILE
    write_jsonl_atomic(path, rows)
    return path


# ------------------------------------------------------------------------------------------ dispatch

def _video_writer():
    try:
        from .video_suite import write_video_suite
    except ImportError as exc:  # PyAV or the moving-shape module missing
        raise RuntimeError(f"synth-video needs the moving-shape videos and PyAV: {exc}") from None
    return write_video_suite


SUITES = ("synth-pope", "synth-multi", "synth-video", "synth-reward", "synth-reward-video")


def write_suite(name: str, root: str | Path, seed: int = 0, count: int | None = None, px: int | None = None) -> Path:
    """Write suite `name` under `root` (questions.jsonl + media); returns the questions file."""
    count = DEFAULT_COUNT if count is None else count
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    kwargs = {"seed": seed, "count": count} | ({"px": px} if px else {})
    if name == "synth-pope":
        return write_pope_suite(root, **kwargs)
    if name == "synth-multi":
        return write_multi_suite(root, **kwargs)
    if name == "synth-video":
        return _video_writer()(root, **kwargs)
    if name == "synth-reward":
        from .reward_suite import write_reward_suite

        return write_reward_suite(root, **kwargs)
    if name == "synth-reward-video":
        from .reward_suite import write_reward_video_suite

        return write_reward_video_suite(root, **kwargs)
    raise ValueError(f"unknown synthetic suite {name!r}; valid: {', '.join(SUITES)}")
