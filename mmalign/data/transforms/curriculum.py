"""Curry-DPO / Curri-DPO (Pattnaik et al. 2024): several pairs per prompt, ordered easy to hard.

Per prompt, the best answer is the chosen of every pair and each other answer is a rejection. The
pair with the largest quality gap is the easiest (stage 0), the smallest gap the hardest. Training runs
the stages in order; in the paper's iterative form each stage starts from, and uses as reference, the
model of the previous stage (`split_stages` gives the stage datasets).

Input forms:
  scored:  `chosen`, `rejected_list`, `scores.chosen`, `scores.rejected_list` (one per rejection); the
           best-scored answer becomes chosen (the given chosen wins ties); gap = score difference;
           pairs whose gap is <= min_gap (ties at least) are dropped.
  ranked:  `chosen`, `rejected_list` ordered best first, no `scores.rejected_list`; gap = rank distance.
Any `rejected` on the input is replaced; put every non-best answer in `rejected_list`.
"""

from __future__ import annotations

import copy
from typing import Any

from .pairs import meta, number, suffixed, where
from .registry import Records, transform


def _candidates(rec: dict[str, Any], i: int) -> list[tuple[Any, float, float | None]]:
    """[(answer, gap to the best, score or None)] for every non-best answer, and sets rec['chosen']."""
    rejected = rec.get("rejected_list")
    if not isinstance(rejected, list) or not rejected:
        raise ValueError(f"{where(rec, i)}: needs a non-empty rejected_list")
    if "chosen" not in rec:
        raise ValueError(f"{where(rec, i)}: needs a chosen answer")
    scores = rec.get("scores") or {}
    if "rejected_list" not in scores:  # ranked form
        return [(ans, float(rank + 1), None) for rank, ans in enumerate(rejected)]
    listed = scores["rejected_list"]
    if not isinstance(listed, list) or len(listed) != len(rejected):
        raise ValueError(f"{where(rec, i)}: scores.rejected_list must have one score per rejected_list entry")
    if "chosen" not in scores:
        raise ValueError(f"{where(rec, i)}: scored form needs scores.chosen")
    answers = [(rec["chosen"], number(scores["chosen"], "scores.chosen", rec, i))]
    answers += [(a, number(s, "scores.rejected_list", rec, i)) for a, s in zip(rejected, listed)]
    best = max(range(len(answers)), key=lambda k: (answers[k][1], -k))
    rec["chosen"], top = answers[best]
    scores["chosen"] = top
    return [(a, top - s, s) for k, (a, s) in enumerate(answers) if k != best]


@transform("curry_pairs")
def curry_pairs(records: Records, *, min_gap: float = 0.0) -> Records:
    """One pair per (best, other) answer, tagged `meta.curriculum_stage` (0 = largest gap) and
    `meta.score_gap`; output ordered by stage, then input order; ids get "#c<stage>"."""
    staged: list[tuple[int, int, dict[str, Any]]] = []
    for i, rec in enumerate(records):
        candidates = _candidates(rec, i)
        ranked = [c for c in candidates if c[2] is None or c[1] > min_gap]
        ranked.sort(key=lambda c: -c[1])  # stable: equal gaps keep list order
        base = {k: v for k, v in rec.items() if k != "rejected_list"}
        if isinstance(base.get("scores"), dict):
            base["scores"] = {k: v for k, v in base["scores"].items() if k != "rejected_list"}
        for stage, (answer, gap, score) in enumerate(ranked):
            pair = copy.deepcopy(base)
            pair["rejected"] = copy.deepcopy(answer)
            if score is not None:
                pair["scores"]["rejected"] = score
            meta(pair).update(curriculum_stage=stage, score_gap=gap)
            suffixed(pair, f"#c{stage}")
            staged.append((stage, i, pair))
    staged.sort(key=lambda t: (t[0], t[1]))
    return [pair for _, _, pair in staged]


def split_stages(records: Records) -> list[Records]:
    """Group pairs by `meta.curriculum_stage`: [stage 0 pairs, stage 1 pairs, ...] (copies, input order)."""
    stages: dict[int, Records] = {}
    for i, rec in enumerate(records):
        stage = (rec.get("meta") or {}).get("curriculum_stage")
        if not isinstance(stage, int):
            raise ValueError(f"{where(rec, i)}: has no meta.curriculum_stage (run curry_pairs first)")  # noqa: TRY004
        stages.setdefault(stage, []).append(copy.deepcopy(rec))
    return [stages[k] for k in sorted(stages)]
