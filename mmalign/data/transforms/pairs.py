"""Helpers shared by the transforms: reading scores and swapping a pair's roles."""

from __future__ import annotations

from typing import Any


def where(record: dict[str, Any], index: int) -> str:
    """How to name a record in an error message."""
    return f"record {record['id']!r}" if "id" in record else f"record #{index}"


def number(value: Any, what: str, record: dict[str, Any], index: int) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where(record, index)}: {what} must be a number, got {value!r}")  # noqa: TRY004
    return float(value)


def pair_scores(record: dict[str, Any], index: int) -> tuple[float, float]:
    """(scores.chosen, scores.rejected) as floats, or a ValueError naming the record."""
    scores = record.get("scores")
    if not isinstance(scores, dict) or "chosen" not in scores or "rejected" not in scores:
        raise ValueError(f"{where(record, index)}: needs scores.chosen and scores.rejected")
    return (number(scores["chosen"], "scores.chosen", record, index),
            number(scores["rejected"], "scores.rejected", record, index))


def _swap_keys(d: dict[str, Any], a: str, b: str) -> None:
    had_a, had_b = a in d, b in d
    va, vb = d.pop(a, None), d.pop(b, None)
    if had_a:
        d[b] = va
    if had_b:
        d[a] = vb


def swap_pair(record: dict[str, Any]) -> dict[str, Any]:
    """Exchange chosen and rejected in place, with what is attached to each side.

    Swapped: `chosen`/`rejected`, `scores.chosen`/`scores.rejected`, `factuality.chosen`/`.rejected`,
    each `[c, r]` of `scores.reward_models`, and `prompt`/`rejected_prompt` when the record has one.
    Not swapped: media (`rejected_images`/`rejected_videos` describe the chosen answer, not a side).
    """
    record["chosen"], record["rejected"] = record["rejected"], record["chosen"]
    for key in ("scores", "factuality"):
        if isinstance(record.get(key), dict):
            _swap_keys(record[key], "chosen", "rejected")
    models = (record.get("scores") or {}).get("reward_models")
    if isinstance(models, list):
        record["scores"]["reward_models"] = [[pair[1], pair[0]] for pair in models]
    if "rejected_prompt" in record:
        record["prompt"], record["rejected_prompt"] = record["rejected_prompt"], record["prompt"]
    return record


def meta(record: dict[str, Any]) -> dict[str, Any]:
    """The record's meta dict, created when absent."""
    if not isinstance(record.get("meta"), dict):
        record["meta"] = {}
    return record["meta"]


def suffixed(record: dict[str, Any], suffix: str) -> None:
    if "id" in record:
        record["id"] = f"{record['id']}{suffix}"
