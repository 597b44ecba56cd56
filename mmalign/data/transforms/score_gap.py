"""COIG-P pair selection (M-A-P 2025): keep a pair only when its score gap exceeds a threshold.

The paper samples two scored responses per query, makes the higher-scored one chosen, and keeps the
pair when the difference exceeds 2 (its threshold sweep peaks there).
"""

from __future__ import annotations

from .pairs import meta, pair_scores, swap_pair
from .registry import Records, transform


@transform("score_gap_filter")
def score_gap_filter(records: Records, *, threshold: float = 2.0, orient: bool = True) -> Records:
    """Keep pairs with scores.chosen - scores.rejected > threshold; record the gap in `meta.score_gap`.

    orient: first swap pairs whose rejected scores higher (the paper's "higher score is chosen"), so
    |gap| decides; with orient=False an inverted pair is dropped.
    """
    kept = []
    for i, rec in enumerate(records):
        s_w, s_l = pair_scores(rec, i)
        if orient and s_l > s_w:
            swap_pair(rec)
            s_w, s_l = s_l, s_w
        if s_w - s_l > threshold:
            meta(rec)["score_gap"] = s_w - s_l
            kept.append(rec)
    return kept
