"""Reward-benchmark metrics: is the annotators' chosen response preferred, item by item and per group.

A scalar judgment is right when score(chosen) > score(rejected); a tie counts `scalar_tie` (0 in RewardBench's
and CRBench's official code: strictly greater wins). A pairwise verdict is right in one order when
P(chosen beats rejected) > 1/2, wrong when < 1/2; a tie verdict (1/2) or no verdict counts `undecided`
(RewardBench's generative script: 0.5; VLMEvalKit's VL-RewardBench: 0; CRBench: 0). The item's value
follows the benchmark's order protocol:

    chosen-first   the chosen response shown first only (CRBench's evaluator)
    parity         the order the benchmark kit fixes per item (`truth["chosen_shown_first"]`; VL-RewardBench)
    mean           the mean of both orders: the expected value under a random order (RewardBench)
    both           right only when right in both orders (our choice where the benchmark says nothing)

Every group (overall and each subset) reports `accuracy` (percent), `n`, and for pairwise judgments also
`accuracy_chosen_first`, `accuracy_chosen_second` (each order on its own, undecided = 0 there),
`consistency` (percent of items whose two verdicts pick the same response: position-swap consistency),
`ties` and `no_verdict` (verdict counts over both orders); for scalar judgments `ties` and `no_score`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import Question, safe_div

ORDERS = ("chosen-first", "parity", "mean", "both")


@dataclass(frozen=True)
class RewardRules:
    order: str
    scalar_tie: float = 0.0
    undecided: float = 0.0

    def __post_init__(self):
        if self.order not in ORDERS:
            raise ValueError(f"unknown order protocol {self.order!r}; valid: {', '.join(ORDERS)}")


def _verdict(p: float | None) -> float | None:
    """1 (chosen wins), 0 (rejected wins) or None (a tie or no verdict)."""
    if p is None or p == 0.5:
        return None
    return 1.0 if p > 0.5 else 0.0


def item_outcome(judgment: dict, question: Question, rules: RewardRules) -> dict:
    """{"value": the item's score in [0, 1], ...} with what the group metrics count."""
    if "chosen" in judgment:
        c, r = judgment["chosen"], judgment["rejected"]
        if c is None or r is None:
            return {"value": rules.undecided, "no_score": 1}
        if c == r:
            return {"value": rules.scalar_tie, "tie": 1}
        return {"value": 1.0 if c > r else 0.0}
    ps = [judgment.get("chosen_first"), judgment.get("chosen_second")]
    v = [_verdict(p) for p in ps]
    per_order = [rules.undecided if x is None else x for x in v]
    if rules.order == "chosen-first":
        value = per_order[0]
    elif rules.order == "parity":
        value = per_order[0] if question.truth.get("chosen_shown_first", True) else per_order[1]
    elif rules.order == "mean":
        value = (per_order[0] + per_order[1]) / 2
    else:
        value = 1.0 if v[0] == 1.0 and v[1] == 1.0 else 0.0
    return {"value": value, "pairwise": 1, "first": v[0] == 1.0, "second": v[1] == 1.0,
            "consistent": v[0] is not None and v[0] == v[1],
            "tie": sum(p == 0.5 for p in ps), "no_verdict": sum(p is None for p in ps)}


def group_metrics(outcomes: list[dict]) -> dict:
    n = len(outcomes)
    out = {"accuracy": 100 * safe_div(sum(o["value"] for o in outcomes), n), "n": n}
    pairwise = [o for o in outcomes if o.get("pairwise")]
    if pairwise:
        m = len(pairwise)
        out.update(accuracy_chosen_first=100 * safe_div(sum(o["first"] for o in pairwise), m),
                   accuracy_chosen_second=100 * safe_div(sum(o["second"] for o in pairwise), m),
                   consistency=100 * safe_div(sum(o["consistent"] for o in pairwise), m),
                   no_verdict=sum(o["no_verdict"] for o in pairwise))
    if len(pairwise) < n:
        out["no_score"] = sum(o.get("no_score", 0) for o in outcomes)
    out["ties"] = sum(o.get("tie", 0) for o in outcomes)
    return out


def score_reward(name: str, questions: list[Question], judgments: dict[str, dict], rules: RewardRules,
                 scoring: str, subset_order: tuple[str, ...] = ()) -> dict:
    """Metrics dict (benchmark, scoring, overall, subsets, per-item values) with `overall` pooled over items
    (micro) plus `macro_accuracy`, the unweighted mean of the subsets' accuracies."""
    outcomes = [item_outcome(judgments[q.id], q, rules) for q in questions]
    by_subset: dict[str, list[dict]] = {}
    for q, o in zip(questions, outcomes):
        by_subset.setdefault(q.subset, []).append(o)
    ordered = [s for s in subset_order if s in by_subset] + sorted(s for s in by_subset if s not in subset_order)
    subsets = {s: group_metrics(by_subset[s]) for s in ordered}
    overall = group_metrics(outcomes)
    overall["macro_accuracy"] = safe_div(sum(s["accuracy"] for s in subsets.values()), len(subsets))
    return {"benchmark": name, "scoring": scoring, "protocol": {"order": rules.order,
            "scalar_tie": rules.scalar_tie, "undecided": rules.undecided},
            "overall": overall, "subsets": subsets, "values": {q.id: o["value"] for q, o in zip(questions, outcomes)}}
