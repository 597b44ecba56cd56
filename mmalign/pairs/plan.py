"""Which format each source row becomes, with how many images and which distractors (seeded, resumable).

Formats are assigned in source order so that every prefix of the data follows the proportions as
closely as whole rows allow (the format furthest behind its share goes next); counts and distractors
come from a per-row seed derived from ``seed`` and the row id, so a resumed run plans the same samples.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ..augment import Augmented, grid_collage, pic_in_pic, sequence
from ..data.image_limits import open_image
from ..data.llava_source import SourceRow
from ..data.schema import resolve_media

FORMATS = ("sequence", "grid_collage", "pic_in_pic")
ALIASES = {"sequence": "sequence", "seq": "sequence", "collage": "grid_collage", "grid": "grid_collage",
           "grid_collage": "grid_collage", "inset": "pic_in_pic", "pip": "pic_in_pic", "pic_in_pic": "pic_in_pic"}
# Table 8 of the paper (LLaVA-v1.5's final 28.9k pairs): 15.1k / 9.3k / 4.5k.
DEFAULT_PROPORTIONS = {"sequence": 0.522, "grid_collage": 0.322, "pic_in_pic": 0.156}
# Image-count mix of the paper's source sets (mia_dpo.md §1.3, §1.4), as weights.
SEQUENCE_COUNTS = {2: 34300, 3: 10050, 4: 9950, 5: 8161}
COLLAGE_COUNTS = {2: 48000, 3: 14000, 4: 14000, 6: 7000, 9: 7000}


def parse_formats(names: str | Sequence[str]) -> tuple[str, ...]:
    """Canonical format names from "sequence,collage,inset" (aliases: seq, grid, pip, pic_in_pic...)."""
    items = [n.strip() for n in (names.split(",") if isinstance(names, str) else names) if n.strip()]
    out = []
    for n in items:
        if n.lower() not in ALIASES:
            raise ValueError(f"unknown format {n!r}; use sequence, collage or inset")
        if ALIASES[n.lower()] not in out:
            out.append(ALIASES[n.lower()])
    if not out:
        raise ValueError("no formats given")
    return tuple(out)


def normalise_proportions(formats: Sequence[str], weights: Sequence[float] | None = None) -> dict[str, float]:
    """Shares per format summing to 1; ``weights`` aligned with ``formats`` (default: the paper's mix)."""
    if weights is None:
        weights = [DEFAULT_PROPORTIONS[f] for f in formats]
    if len(weights) != len(formats):
        raise ValueError(f"{len(weights)} proportions for {len(formats)} formats")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"proportions must be >= 0 with a positive sum, got {list(weights)}")
    total = float(sum(weights))
    return {f: w / total for f, w in zip(formats, weights)}


def assign_formats(n: int, proportions: dict[str, float]) -> list[str]:
    """A format per row: each row goes to the format furthest behind ``share * rows so far``."""
    counts = dict.fromkeys(proportions, 0)
    out = []
    for i in range(1, n + 1):
        fmt = max(proportions, key=lambda f: proportions[f] * i - counts[f])
        counts[fmt] += 1
        out.append(fmt)
    return out


def row_seed(seed: int, row_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{row_id}".encode()).digest()[:8], "big")


@dataclass(frozen=True)
class Plan:
    row: SourceRow
    format: str
    n_images: int  # source images in the sample (target + distractors); 0 = no distractor available
    distractors: tuple[str, ...]
    seed: int


def _pick_count(rng: random.Random, weights: dict[int, float], available: int) -> int:
    usable = {n: w for n, w in weights.items() if n - 1 <= available}
    if not usable:
        return 0
    counts = sorted(usable)
    return rng.choices(counts, weights=[usable[n] for n in counts])[0]


def plan_rows(rows: Sequence[SourceRow], proportions: dict[str, float], *, seed: int,
              sequence_counts: dict[int, float] = SEQUENCE_COUNTS,
              collage_counts: dict[int, float] = COLLAGE_COUNTS) -> list[Plan]:
    """One plan per row; distractors are other rows' images (never the row's own)."""
    pool = list(dict.fromkeys(r.image for r in rows))
    plans = []
    for row, fmt in zip(rows, assign_formats(len(rows), proportions)):
        s = row_seed(seed, row.id)
        rng = random.Random(s)
        available = len(pool) - 1
        weights = {"sequence": sequence_counts, "grid_collage": collage_counts, "pic_in_pic": {2: 1.0}}[fmt]
        n = _pick_count(rng, weights, available)
        picks = rng.sample(pool, min(n, len(pool))) if n else []
        distractors = tuple(p for p in picks if p != row.image)[:max(n - 1, 0)]
        plans.append(Plan(row, fmt, n, distractors, s))
    return plans


def load_rgb(root: Path, rel: str) -> Image.Image:
    with open_image(resolve_media(root, rel), rel) as im:
        return im.convert("RGB")


def augment_plan(plan: Plan, root: Path, *, cell: int = 448, margin: int = 40) -> Augmented:
    """Build the plan's sample from the images under ``root`` (raises OSError for unreadable images)."""
    target = load_rgb(root, plan.row.image)
    others = [load_rgb(root, p) for p in plan.distractors]
    question = plan.row.question
    if plan.format == "sequence":
        return sequence(target, others, question, seed=plan.seed)
    if plan.format == "grid_collage":
        return grid_collage(target, others, question, seed=plan.seed, cell=cell, margin=margin)
    return pic_in_pic(target, others[0], question, seed=plan.seed)
