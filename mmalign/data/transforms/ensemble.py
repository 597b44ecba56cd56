"""Preference strength from a reward-model ensemble (Secrets of RLHF II, Wang et al. 2024).

Field layout (ours): `scores.reward_models = [[r_m(x, y_c), r_m(x, y_r)], ...]`, one pair per reward
model m = 1..M. With d_m = r_m(x, y_c) - r_m(x, y_r):
    meta.preference_strength     = mean_m d_m
    meta.preference_strength_std = sqrt(mean_m (d_m - mean)^2)          (population std, as the paper)
The weakest `flip_fraction` of the records by strength (floor(fraction * N), ties by input order) have
chosen and rejected swapped (their strength and reward-model pairs change sign with them); the paper
flips the bottom 20%. With soft_labels, `meta.soft_label` marks pairs whose (final) strength is < 0:
the `bt_margin` loss label-smooths exactly those ("soft label + margin").
"""

from __future__ import annotations

import math

from .pairs import meta, number, swap_pair, where
from .registry import Records, transform


def _strength(rec, i) -> tuple[float, float]:
    models = (rec.get("scores") or {}).get("reward_models")
    if not isinstance(models, list) or not models:
        raise ValueError(f"{where(rec, i)}: needs scores.reward_models = [[chosen, rejected], ...]")
    diffs = []
    for pair in models:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(f"{where(rec, i)}: each scores.reward_models entry must be [chosen, rejected]")
        diffs.append(number(pair[0], "reward score", rec, i) - number(pair[1], "reward score", rec, i))
    mean = sum(diffs) / len(diffs)
    return mean, math.sqrt(sum((d - mean) ** 2 for d in diffs) / len(diffs))


@transform("preference_strength")
def preference_strength(records: Records, *, flip_fraction: float = 0.2, soft_labels: bool = True) -> Records:
    """Annotate strength mean/std, flip the weakest fraction (`meta.strength_flipped`), mark soft labels."""
    if not 0.0 <= flip_fraction <= 1.0:
        raise ValueError(f"preference_strength: flip_fraction must be in [0, 1], got {flip_fraction}")
    stats = [_strength(rec, i) for i, rec in enumerate(records)]
    n_flip = math.floor(flip_fraction * len(records) + 1e-9)
    flipped = set(sorted(range(len(records)), key=lambda i: (stats[i][0], i))[:n_flip])
    for i, rec in enumerate(records):
        mean, std = stats[i]
        if i in flipped:
            swap_pair(rec)
            mean = -mean
        m = meta(rec)
        m.update(preference_strength=mean, preference_strength_std=std, strength_flipped=i in flipped)
        if soft_labels:
            m["soft_label"] = mean < 0
    return records
