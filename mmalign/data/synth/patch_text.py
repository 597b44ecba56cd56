"""The synthetic world written as text, for the demo's language-model pretraining.

A real LLaVA starts from a language model that already follows references such as "In Image2, ..."
because it read text full of them. The tiny demo model gets the same start from this text: each scene is
written as one word per vision patch, in the order the patches reach the decoder (4 x 4, row by row), so
a "text image" has the length and layout of an image's tokens. A patch mostly covered by the object
carries the object's colour or shape word (alternately), every other patch the word "dark":

    Image1: dark dark dark dark dark red circle dark dark red circle dark dark dark dark dark
    Image2: dark blue dark dark square blue square dark ...
    In Image2, what colour is the square?  ->  Blue.

Sequences follow the MIA-DPO sequence prompt (`augment.prompts.sequence_prompt`) and put the question's
wrong answer in a distractor, like `synth-multi`; single "images" carry the plain single-image questions.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from ...augment.prompts import IMAGE_TOKEN, sequence_prompt
from ...io import write_jsonl_atomic
from .questions import ALL_KINDS, KINDS, ask
from .scenes import BACKGROUND, Scene, draw_scene, sample_scene
from .suites import lure_scene

BACKGROUND_WORD = "dark"
GRID = 4  # patches per side of the tiny LLaVA (32 px images, 8 px patches)
COVERED = 0.25  # share of a patch's pixels the object must cover for the patch to name it


def patch_words(scene: Scene, grid: int = GRID, px: int = 32) -> list[str]:
    """One word per patch, row by row: the object's colour / shape word alternately where it covers
    the patch, `BACKGROUND_WORD` elsewhere."""
    pixels = np.asarray(draw_scene(scene, px), dtype=np.int32)
    covered = np.abs(pixels - np.array(BACKGROUND)).sum(-1) > 30
    side = px // grid
    words, named = [], 0
    for r in range(grid):
        for c in range(grid):
            if covered[r * side:(r + 1) * side, c * side:(c + 1) * side].mean() > COVERED:
                words.append(scene.colour if named % 2 == 0 else scene.shape)
                named += 1
            else:
                words.append(BACKGROUND_WORD)
    if named == 0:  # an object too small to cover any patch still gets named once
        words[grid + 1:grid + 3] = [scene.colour, scene.shape]
    return words


def text_record(index: int, rng: random.Random, single_share: float, max_extra: int = 2) -> dict:
    """A text-only SFT record: one text image with a single-image question (`single_share` of the
    time) or 2 to 2 + `max_extra` labelled text images with a question about one of them (the target,
    its lure and up to `max_extra` other scenes)."""
    target = sample_scene(rng)
    single = rng.random() < single_share
    q = ask(target, rng, ALL_KINDS if single else KINDS)
    if single:
        scenes, prompt = [target], f"{IMAGE_TOKEN}\n{q.text}"
    else:
        others = [lure_scene(target, q, rng)] + [sample_scene(rng) for _ in range(rng.randint(0, max_extra) if max_extra else 0)]
        rng.shuffle(others)
        k = rng.randrange(len(others) + 1)
        scenes = others[:k] + [target] + others[k:]
        prompt, _ = sequence_prompt(q.text, len(scenes), k)
    for scene in scenes:
        prompt = prompt.replace(IMAGE_TOKEN, " " + " ".join(patch_words(scene)) + " ", 1)
    return {"id": f"patch-text-{index}", "prompt": prompt.strip(), "chosen": q.answer, "rejected": q.wrong,
            "meta": {"kind": q.kind}}


def write_patch_text(path: str | Path, *, seed: int, count: int, single_share: float = 0.2,
                     max_extra: int = 2) -> Path:
    """Write `count` text records (JSONL, the trainer's preference format) to `path`. `max_extra=0`
    writes two-image sequences only: the first stage of the demo's text curriculum."""
    rng = random.Random(seed)
    path = Path(path)
    write_jsonl_atomic(path, (text_record(i, rng, single_share, max_extra) for i in range(count)))
    return path


# Captions: "Describe the image." answered with the image's patch words. In text the decoder learns to copy a
# text image's words; with the decoder frozen, the projector then learns to turn an image's patches into
# tokens the decoder copies as those words, i.e. tokens that read like the text it was pretrained on.
CAPTION_QUESTION = "Describe the image."


def _caption(scene: Scene) -> str:
    return " ".join(patch_words(scene)) + "."


def caption_text_record(index: int, rng: random.Random) -> dict:
    """A text image followed by the caption question; the answer repeats its words."""
    scene, other = sample_scene(rng), sample_scene(rng)
    caption = _caption(scene)
    return {"id": f"cap-text-{index}", "prompt": f"{caption[:-1]}\n{CAPTION_QUESTION}", "chosen": caption,
            "rejected": _caption(other)}


def write_caption_images(root: str | Path, folder: str, count: int, rng: random.Random, px: int = 32) -> list[dict]:
    """Draw `count` scenes to `root/folder/<i>.png`; return trainer records asking for their captions."""
    root = Path(root)
    (root / folder).mkdir(parents=True, exist_ok=True)
    records = []
    for i in range(count):
        scene, other = sample_scene(rng), sample_scene(rng)
        rel = f"{folder}/{i}.png"
        draw_scene(scene, px).save(root / rel)
        records.append({"id": f"cap-img-{i}", "images": [rel], "prompt": f"{IMAGE_TOKEN}\n{CAPTION_QUESTION}",
                        "chosen": _caption(scene), "rejected": _caption(other)})
    return records
