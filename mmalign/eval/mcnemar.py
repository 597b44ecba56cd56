"""McNemar's exact test for two models answering the same questions (before / after a training).

Only the discordant questions carry information: `worsened` were right before and wrong after, `improved`
wrong before and right after. Under "no change" each discordant question is a fair coin, so the two-sided
p-value is the binomial probability of a split at least as uneven as the one seen:
p = min(1, 2 * sum_{k <= min(b, c)} C(b + c, k) / 2^(b + c)). The exact form is used rather than the chi-square
approximation because a tiny model's changes can touch only a handful of questions.
"""

from __future__ import annotations

from math import comb


def mcnemar_exact(before: dict[str, bool], after: dict[str, bool]) -> dict:
    """Paired test over the questions both dicts (id -> answered right) hold; raises ValueError when they
    hold different ids, since pairing them would silently compare different questions."""
    if before.keys() != after.keys():
        missing = sorted(before.keys() ^ after.keys())
        raise ValueError(f"McNemar needs the same questions before and after; {len(missing)} differ, "
                         f"e.g. {missing[0]!r}")
    improved = sum(1 for q, right in before.items() if not right and after[q])
    worsened = sum(1 for q, right in before.items() if right and not after[q])
    n = improved + worsened
    tail = sum(comb(n, k) for k in range(min(improved, worsened) + 1))
    p_value = min(1.0, 2 * tail / 2 ** n) if n else 1.0
    return {"n": len(before), "improved": improved, "worsened": worsened, "p_value": p_value}
