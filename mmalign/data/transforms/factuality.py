"""F-DPO label flip (Chaduvula et al. 2026, `flip_sample` / Algorithm 1).

With factuality labels h (0 factual, 1 hallucinated), a pair whose chosen answer is hallucinated and
whose rejected answer is factual, (h_w, h_l) = (1, 0), is swapped so that h_l - h_w is 0 or 1.
"""

from __future__ import annotations

from .pairs import meta, swap_pair, where
from .registry import Records, transform

MISSING = ("error", "keep")


@transform("fdpo_flip")
def fdpo_flip(records: Records, *, missing: str = "error") -> Records:
    """Swap (1, 0) pairs (factuality.chosen / factuality.rejected) and mark them `meta.fdpo_flipped`.

    missing: "error" (a record without both labels is an error) or "keep" (pass it through unchanged).
    """
    if missing not in MISSING:
        raise ValueError(f"fdpo_flip: missing must be one of {', '.join(MISSING)}, got {missing!r}")
    for i, rec in enumerate(records):
        fact = rec.get("factuality")
        if not isinstance(fact, dict) or "chosen" not in fact or "rejected" not in fact:
            if missing == "error":
                raise ValueError(f"{where(rec, i)}: needs factuality.chosen and factuality.rejected (0 or 1)")
            continue
        h_w, h_l = fact["chosen"], fact["rejected"]
        if h_w not in (0, 1) or h_l not in (0, 1):
            raise ValueError(f"{where(rec, i)}: factuality labels must be 0 or 1, got {h_w!r}, {h_l!r}")
        if (h_w, h_l) == (1, 0):
            swap_pair(rec)
            meta(rec)["fdpo_flipped"] = True
    return records
