"""Per-pair tensors a loss asks for through `needs`, read from record fields.

| need        | extras                                       | record fields                                  |
|-------------|----------------------------------------------|------------------------------------------------|
| scores      | chosen_scores, rejected_scores               | scores.chosen, scores.rejected                 |
| win_probs   | chosen_win_prob, rejected_win_prob           | scores.chosen_win_prob, scores.rejected_win_prob |
| factuality  | chosen_hallucinated, rejected_hallucinated   | factuality.chosen, factuality.rejected (1 = hallucinated) |
| strength    | preference_strength                          | meta.preference_strength                       |
"""

from __future__ import annotations

import torch

from .schema import PreferenceRecord, RecordProblem

FIELDS: dict[str, list[tuple[str, str, str]]] = {
    "scores": [("chosen_scores", "scores", "chosen"), ("rejected_scores", "scores", "rejected")],
    "win_probs": [("chosen_win_prob", "scores", "chosen_win_prob"),
                  ("rejected_win_prob", "scores", "rejected_win_prob")],
    "factuality": [("chosen_hallucinated", "factuality", "chosen"),
                   ("rejected_hallucinated", "factuality", "rejected")],
    "strength": [("preference_strength", "meta", "preference_strength")],
}


def _value(rec: PreferenceRecord, group: str, key: str) -> float:
    holder = getattr(rec, group) or {}
    value = holder.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordProblem("missing_field", f"the objective needs '{group}.{key}' (a number) on every record")
    return float(value)


def check_extras(rec: PreferenceRecord, needs: frozenset[str]) -> None:
    for need in needs & FIELDS.keys():
        for _, group, key in FIELDS[need]:
            _value(rec, group, key)


def record_extras(records: list[PreferenceRecord], needs: frozenset[str]) -> dict[str, torch.Tensor]:
    out = {}
    for need in needs & FIELDS.keys():
        for name, group, key in FIELDS[need]:
            out[name] = torch.tensor([_value(r, group, key) for r in records], dtype=torch.float32)
    return out
