"""Reading a generative judge's reply: a score ("Score: 4") or a verdict ("[[A]]").

A reply that names no score, or a score outside the scale, gives None: the caller counts it and goes on.
"""

from __future__ import annotations

import re

# "Score: 4", "Score = **4**". `\s*(?:\*+\s*)?` and not `\s*\**\s*`: two adjacent `\s*` split a run of blanks
# every way before failing, which is quadratic (seconds on a reply of 10,000 spaces).
SCORE = re.compile(r"score\s*[:=]\s*(?:\*+\s*)?(-?\d+(?:\.\d+)?)", re.IGNORECASE)
VERDICT = re.compile(r"\[\[\s*([ABC])\s*\]\]")
# lmms-eval's VL-RewardBench form ("Overall Judgment: Answer 2 is better"), for judges prompted that way.
ANSWER_IS_BETTER = re.compile(r"answer\s*([12])\s*is\s*(?:the\s*)?(?:slightly\s*)?better", re.IGNORECASE)


def parse_score(reply: str, max_score: float) -> float | None:
    """The last "Score: N" of the reply when 0 <= N <= max_score (the prompt asks to conclude with it)."""
    found = SCORE.findall(reply)
    if not found:
        return None
    value = float(found[-1])
    return value if 0 <= value <= max_score else None


def parse_verdict(reply: str) -> float | None:
    """P(the first response shown is better): 1.0 for [[A]], 0.0 for [[B]], 0.5 for [[C]] (a tie); the last
    verdict of the reply counts. "Answer 1/2 is better" is read too. None when the reply names none."""
    found = VERDICT.findall(reply)
    if found:
        return {"A": 1.0, "B": 0.0, "C": 0.5}[found[-1]]
    found = ANSWER_IS_BETTER.findall(reply)
    if found:
        return 1.0 if found[-1] == "1" else 0.0
    return None
