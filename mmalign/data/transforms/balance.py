"""Pairs balanced by answer word (docs/demo_findings.md, section 5).

Pairs built from a model's own mistakes are lopsided in their answer words: where the model misreads green,
"green over blue" is common and "blue over green" rare. DPO + NLL learns that lopsidedness as a preference
for the word itself, whatever the image shows (the demo's inset yellow answers fell from 32 right to 4).
This keeps, for each (format, chosen word, rejected word), at most as many pairs as the reverse
(format, rejected word, chosen word) has, so every word is pushed up exactly as often as down. Pairs of the
other kinds, or whose words are not found, are kept as they are. Input order decides which pairs stay.
"""

from __future__ import annotations

from collections import Counter

from ..candidates import message_text
from ..synth.grading import VOCABULARY, answer_word, reference_kind
from .registry import Records, transform


def _key(rec: dict, kinds: set[str], by_format: bool) -> tuple | None:
    chosen = message_text(rec.get("chosen", ""))
    kind = reference_kind(chosen)
    if kind not in kinds:
        return None
    a, b = answer_word(chosen, kind), answer_word(message_text(rec.get("rejected", "")), kind)
    if a is None or b is None or a == b:
        return None
    fmt = (rec.get("meta") or {}).get("format", "") if by_format else ""
    return (fmt, a, b)


@transform("balance_answers")
def balance_answers(records: Records, *, kinds: str = "colour", by_format: bool = True) -> Records:
    """Keep at most min(#(a over b), #(b over a)) pairs of each answer-word pair (per `meta.format` when
    by_format); `kinds`: comma-separated kinds of the synthetic world's answers (colour, shape, exists)."""
    wanted = {k.strip() for k in kinds.split(",") if k.strip()}
    unknown = sorted(wanted - set(VOCABULARY))
    if unknown or not wanted:
        raise ValueError(f"balance_answers: kinds must name some of {', '.join(sorted(VOCABULARY))}, got {kinds!r}")
    keys = [_key(rec, wanted, by_format) for rec in records]
    counts = Counter(k for k in keys if k)
    used: Counter = Counter()
    kept = []
    for rec, key in zip(records, keys):
        if key is not None:
            if used[key] >= counts[(key[0], key[2], key[1])]:
                continue
            used[key] += 1
        kept.append(rec)
    return kept
