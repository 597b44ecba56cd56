"""How far several judges agree on a scored candidate file: COIG-P scores every answer with several judges,
and whether they order the answers alike says how much their mean can be trusted."""

from __future__ import annotations

from collections import Counter
from itertools import combinations


def _per_judge(record: dict) -> dict[str, list]:
    n = len(record["candidates"])
    found: dict[str, list] = {}
    for k, c in enumerate(record["candidates"]):
        for name, v in (c.get("scores") or {}).items():
            found.setdefault(name, [None] * n)[k] = v
    return found


def judge_agreement(records: list[dict]) -> dict | None:
    """Over every two answers of one prompt and every two judges that both scored them without a tie: how
    often the two judges order the two answers the same way. `overall` and per judge pair ('a|b'); None
    with fewer than two judges."""
    agree, total = Counter(), Counter()
    for record in records:
        scores = _per_judge(record)
        for a, b in combinations(sorted(scores), 2):
            sa, sb = scores[a], scores[b]
            for i, j in combinations(range(len(sa)), 2):
                if None in (sa[i], sa[j], sb[i], sb[j]) or sa[i] == sa[j] or sb[i] == sb[j]:
                    continue
                total[f"{a}|{b}"] += 1
                agree[f"{a}|{b}"] += (sa[i] > sa[j]) == (sb[i] > sb[j])
    if not total:
        return None
    return {"overall": round(sum(agree.values()) / sum(total.values()), 4), "compared": sum(total.values()),
            "pairs": {k: round(agree[k] / total[k], 4) for k in sorted(total)}}


def pairs_per_prompt(pairs: list[dict], prompts: int) -> dict[int, int]:
    """{number of pairs: prompts with that many}, prompts without a pair included under 0."""
    made = Counter(p["id"].split("#")[0] for p in pairs)
    counts = Counter(made.values())
    counts[0] = prompts - len(made)
    return {k: counts[k] for k in sorted(counts) if counts[k]}
