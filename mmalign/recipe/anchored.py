"""Temporal Self-Rewarding's pairs (Wang et al. 2025): the chosen answer is the best-judged of one set of
candidates (the current model's, or the future model's), the rejected answer the worst-judged of the
starting model's answers to the same prompt ("anchored rejection": negatives stay in the past instead of
improving with the policy).

Both candidate files must be scored by the same judge (the recipe re-scores the anchored answers with each
round's judge), so the gap is on one scale. A prompt whose best answer does not beat the anchored worst is
left out and counted, as `mmalign pairs` leaves out ties.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from ..data.candidates import read_candidates
from ..io import write_json_atomic, write_jsonl_atomic
from ..pairs.from_scores import PAIRS_FILE, SUMMARY_FILE, Rule, candidate_scores, pair_record

RULE = Rule("best-worst", text="anchored")


def _best(scores: list) -> int | None:
    scored = [k for k, v in enumerate(scores) if v is not None]
    return max(scored, key=lambda k: (scores[k], -k)) if scored else None


def _worst(scores: list) -> int | None:
    scored = [k for k, v in enumerate(scores) if v is not None]
    return min(scored, key=lambda k: (scores[k], k)) if scored else None


def anchored_pairs(chosen_from: str | Path, anchor: str | Path, out: str | Path) -> dict[str, Any]:
    """Write OUT/pairs.jsonl: per prompt of `chosen_from`, its best candidate against the worst candidate of
    the same prompt in `anchor` (both scored candidate files)."""
    current, _ = read_candidates(chosen_from, "error")
    anchors = {r["id"]: r for r in read_candidates(anchor, "error")[0]}
    pairs, dropped = [], Counter()
    for record in current:
        old = anchors.get(record["id"])
        if old is None:
            dropped["no_anchored_answers"] += 1
            continue
        best, worst = _best(candidate_scores(record, None)), _worst(candidate_scores(old, None))
        if best is None or worst is None:
            dropped["unscored"] += 1
            continue
        both = {**record, "candidates": [record["candidates"][best], old["candidates"][worst]]}
        s = candidate_scores(both, None)
        if s[0] <= s[1]:
            dropped["best_not_above_anchor"] += 1
            continue
        pair = pair_record(both, 0, 1, s, RULE, None)
        pair["meta"]["pair"].update(chosen=best, rejected=worst, rejected_from="anchor")
        pairs.append(pair)
    write_jsonl_atomic(Path(out) / PAIRS_FILE, pairs)
    summary = {"records": len(current), "pairs": len(pairs), "rule": RULE.text,
               "prompts_without_pairs": dict(dropped)}
    write_json_atomic(Path(out) / SUMMARY_FILE, summary)
    return {"pairs": len(pairs), "prompts_without_pairs": dict(dropped)}
