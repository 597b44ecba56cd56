"""The judge interface (docs/candidates.md) and what every judge shares.

A judge scores the candidates of candidate-file records (`mmalign.data.candidates`):

    judge.name                          # the key its scores are kept under: candidate["scores"][name]
    judge.score(records)                # -> [[score or None per candidate] per record]

None means the judge gave no score (a reply without one, no reference to compare with); callers count
it and go on. A pairwise judge also answers

    judge.verdicts(record, a, b)        # -> (P(a beats b) with a shown first, with b shown first), each or None
    judge.compare(record, a, b)         # -> P(a beats b), both orders averaged; None when neither parsed

and its `score` is each candidate's mean win probability against the others (a round robin). A judge may
also have `replies`: the raw text behind its last `score` call, kept beside the scores for inspection.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from typing import Protocol, runtime_checkable

Score = float | None


@runtime_checkable
class Judge(Protocol):
    name: str

    def score(self, records: list[dict]) -> list[list[Score]]: ...


@runtime_checkable
class PairwiseJudge(Judge, Protocol):
    def verdicts(self, record: dict, a: int, b: int) -> tuple[Score, Score]: ...

    def compare(self, record: dict, a: int, b: int) -> Score: ...


def derived_seed(*parts: object) -> int:
    """A seed from (seed, id, ...) that does not depend on the order or batching of the work, so a resumed
    run samples exactly what the first run would have."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def mean_or_none(values: list[Score]) -> Score:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def texts(record: dict) -> list[str]:
    return [c["text"] for c in record["candidates"]]


def score_against_reference(records: list[dict], grade: Callable[[str, str], float], noise: float = 0.0,
                            seed: int = 0) -> list[list[Score]]:
    """Each candidate's `grade(text, reference)`, plus Gaussian noise of std `noise` seeded by (seed, id,
    candidate), so a resumed or re-batched run scores the same; a record without a string `reference`
    gets no scores. The oracle and graded judges are this with their own grade."""
    out = []
    for record in records:
        reference = record.get("reference")
        if not isinstance(reference, str):
            out.append([None] * len(record["candidates"]))
            continue
        row = []
        for k, candidate in enumerate(record["candidates"]):
            value = float(grade(candidate["text"], reference))
            if noise:
                value += random.Random(derived_seed(seed, record["id"], k)).gauss(0.0, noise)
            row.append(round(value, 4))
        out.append(row)
    return out
