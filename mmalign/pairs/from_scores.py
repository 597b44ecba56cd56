"""`mmalign pairs`: scored candidates -> preference records, by one of four rules.

Each candidate's score is the one under `judge` (a judge name), or, without one, the mean over every judge
that scored it (COIG-P scores with 8 judges; how it combines them is not published, the mean is our choice).
Unscored candidates are left out. Rules (the higher score is always the chosen answer):

  best-worst       the best against the worst; dropped when they tie (Self-Rewarding) or are the same text
                   (a noisy judge scored one answer twice). Ties for best or worst go to the earlier candidate.
  gap:T            every pair whose scores differ by more than T (COIG-P: T = 2, "exceeds the threshold");
                   ids get "#i-j" (candidate indices).
  ranked           Curry-DPO's ranked list: chosen = best, `rejected_list` = the others best first with
                   `scores.rejected_list`, `rejected` = the worst; `data.transforms.curry_pairs` stages it.
  win-prob         SPPO: P(i beats j) = 1, 1/2 (tie) or 0 from the scores, or sigma(s_i - s_j) with
                   `win-prob:sigmoid` (SPPO's compute_prob on PairRM scores); a candidate's win probability is
                   the mean over all K scored candidates, itself included (1/2), as SPPO computes it.
                   Chosen = the best, rejected = the worst; `scores.chosen_win_prob`/`rejected_win_prob`.

Every pair carries `scores.chosen`/`scores.rejected` (what the score-reading transforms and objectives read)
and `meta.pair` = {"rule", "judge", "chosen", "rejected"} (candidate indices).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..data.candidates import OnBadRecord, read_candidates
from ..errors import MMAlignError
from ..io import write_json_atomic, write_jsonl_atomic
from .agreement import judge_agreement, pairs_per_prompt

PAIRS_FILE = "pairs.jsonl"
SUMMARY_FILE = "pairs_summary.json"
RULES = ("best-worst", "gap:T", "ranked", "win-prob", "win-prob:sigmoid")


@dataclass(frozen=True)
class Rule:
    kind: str  # best-worst | gap | ranked | win-prob
    gap: float = 0.0
    sigmoid: bool = False
    text: str = ""


def parse_rule(text: str) -> Rule:
    kind, _, arg = text.partition(":")
    if kind == "gap":
        try:
            gap = float(arg)
        except ValueError:
            raise MMAlignError(f"--rule gap:T needs a number T, got {text!r}") from None
        return Rule("gap", gap=gap, text=text)
    if kind in ("best-worst", "ranked") and not arg:
        return Rule(kind, text=text)
    if kind == "win-prob" and arg in ("", "hard", "sigmoid"):
        return Rule(kind, sigmoid=arg == "sigmoid", text=text)
    raise MMAlignError(f"unknown --rule {text!r}; rules: {', '.join(RULES)}")


def candidate_scores(record: dict, judge: str | None) -> list[float | None]:
    """One score per candidate: the judge's, or the mean over the judges that scored it; None if unscored."""
    out = []
    for candidate in record["candidates"]:
        scores = {k: v for k, v in (candidate.get("scores") or {}).items() if v is not None}
        if judge is not None:
            out.append(scores.get(judge))
        else:
            out.append(sum(scores.values()) / len(scores) if scores else None)
    return out


def pair_record(record: dict, i: int, j: int, s: list, rule: Rule, judge: str | None, suffix: str = "") -> dict:
    base = {k: v for k, v in record.items() if k != "candidates"}
    texts = [c["text"] for c in record["candidates"]]
    meta = {**(record.get("meta") or {}), "pair": {"rule": rule.text, "judge": judge or "mean",
                                                   "chosen": i, "rejected": j}, "score_gap": s[i] - s[j]}
    return {**base, "id": f"{record['id']}{suffix}", "chosen": texts[i], "rejected": texts[j],
            "scores": {"chosen": s[i], "rejected": s[j]}, "meta": meta}


def _win_prob(si: float, sj: float, sigmoid: bool) -> float:
    if sigmoid:
        return 1.0 / (1.0 + math.exp(sj - si))
    return 1.0 if si > sj else 0.5 if si == sj else 0.0


def pairs_of(record: dict, rule: Rule, judge: str | None = None) -> tuple[list[dict], str | None]:
    """The record's preference records, or ([], reason) when it gives none."""
    s = candidate_scores(record, judge)
    scored = [k for k, v in enumerate(s) if v is not None]
    if len(scored) < 2:
        return [], "fewer_than_2_scored"
    best = max(scored, key=lambda k: (s[k], -k))
    worst = min(scored, key=lambda k: (s[k], k))
    if s[best] == s[worst]:
        return [], "all_tied"
    texts = [c["text"] for c in record["candidates"]]
    if rule.kind != "gap" and texts[best] == texts[worst]:
        return [], "identical_answers"  # a noisy judge scored one text twice: the pair teaches nothing
    if rule.kind == "best-worst":
        return [pair_record(record, best, worst, s, rule, judge)], None
    if rule.kind == "gap":
        pairs = []
        for a in scored:
            for b in scored:
                if a < b and abs(s[a] - s[b]) > rule.gap and texts[a] != texts[b]:
                    i, j = (a, b) if s[a] > s[b] else (b, a)
                    pairs.append(pair_record(record, i, j, s, rule, judge, f"#{a}-{b}"))
        return pairs, None if pairs else "no_pair_above_gap"
    if rule.kind == "ranked":
        order = sorted(scored, key=lambda k: (-s[k], k))
        pair = pair_record(record, order[0], order[-1], s, rule, judge)
        pair["rejected_list"] = [record["candidates"][k]["text"] for k in order[1:]]
        pair["scores"]["rejected_list"] = [s[k] for k in order[1:]]
        pair["meta"]["pair"]["ranked"] = order
        return [pair], None
    wins = {i: sum(_win_prob(s[i], s[j], rule.sigmoid) for j in scored) / len(scored) for i in scored}
    pair = pair_record(record, best, worst, s, rule, judge)
    pair["scores"].update(chosen_win_prob=wins[best], rejected_win_prob=wins[worst])
    return [pair], None


def make_pairs(data: str | Path, out: str | Path, rule: str, *, judge: str | None = None,
               on_bad_record: OnBadRecord = "error") -> dict:
    """Write OUT/pairs.jsonl and OUT/pairs_summary.json from a scored candidate file; returns the summary."""
    parsed = parse_rule(rule)
    records, bad = read_candidates(data, on_bad_record)
    if judge is not None:
        known = {name for r in records for c in r["candidates"] for name in (c.get("scores") or {})}
        if judge not in known:
            raise MMAlignError(f"no candidate has a score from judge {judge!r}; judges in {data}: "
                               f"{', '.join(sorted(known)) or 'none (run mmalign score first)'}")
    pairs, dropped = [], Counter()
    for record in records:
        made, reason = pairs_of(record, parsed, judge)
        pairs += made
        if reason:
            dropped[reason] += 1
    out = Path(out)
    write_jsonl_atomic(out / PAIRS_FILE, pairs)
    summary = {"records": len(records), "pairs": len(pairs), "rule": parsed.text, "judge": judge or "mean",
               "prompts_without_pairs": dict(dropped), "skipped_lines": dict(bad),
               "pairs_per_prompt": pairs_per_prompt(pairs, len(records)), "judge_agreement": judge_agreement(records)}
    write_json_atomic(out / SUMMARY_FILE, summary)
    return summary
