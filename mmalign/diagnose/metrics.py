"""How well scores tell chosen answers (label 1) from rejected ones (label 0).

- `auroc`: the probability that a random chosen answer scores above a random rejected one, ties counting
  one half (the Mann-Whitney statistic; sklearn's `roc_auc_score` gives the same number).
- `accuracy`: the share of answers on the right side of a threshold (a probability above 0.5 is "chosen";
  exactly 0.5 counts as "rejected", so identical scores for both classes give exactly 0.5).
- `pair_accuracy`: the share of pairs whose chosen answer scores above its own rejected one, ties one half.
"""

from __future__ import annotations

import torch


def _labels(labels) -> torch.Tensor:
    y = torch.as_tensor(labels).flatten()
    if y.numel() and not bool(((y == 0) | (y == 1)).all()):
        raise ValueError("labels must be 0 (rejected) or 1 (chosen)")
    return y.bool()


def average_ranks(values: torch.Tensor) -> torch.Tensor:
    """1-based ranks of `values`, tied values sharing the mean of their ranks (float64)."""
    v = values.double().flatten()
    order = torch.argsort(v, stable=True)
    sorted_v = v[order]
    n = v.numel()
    ranks = torch.empty(n, dtype=torch.float64)
    start = 0
    while start < n:  # runs of equal values; O(n) after the sort
        end = start
        while end + 1 < n and sorted_v[end + 1] == sorted_v[start]:
            end += 1
        ranks[order[start:end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def auroc(scores, labels) -> float:
    """Area under the ROC curve of `scores` for `labels` (1 = chosen); needs both classes."""
    s = torch.as_tensor(scores, dtype=torch.float64).flatten()
    y = _labels(labels)
    if s.numel() != y.numel():
        raise ValueError(f"{s.numel()} scores but {y.numel()} labels")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if not n_pos or not n_neg:
        raise ValueError("AUROC needs answers of both classes (chosen and rejected); got "
                         f"{n_pos} chosen and {n_neg} rejected")
    rank_sum = float(average_ranks(s)[y].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def accuracy(probs, labels, threshold: float = 0.5) -> float:
    """Share of answers with (prob > threshold) == label."""
    p = torch.as_tensor(probs, dtype=torch.float64).flatten()
    y = _labels(labels)
    if not p.numel():
        raise ValueError("accuracy of no answers")
    return float(((p > threshold) == y).double().mean())


def pair_accuracy(chosen, rejected) -> float:
    """Share of pairs with chosen > rejected, a tie counting one half."""
    c = torch.as_tensor(chosen, dtype=torch.float64).flatten()
    r = torch.as_tensor(rejected, dtype=torch.float64).flatten()
    if not c.numel() or c.numel() != r.numel():
        raise ValueError(f"pair accuracy needs as many chosen as rejected scores, got {c.numel()} and {r.numel()}")
    return float(((c > r).double() + 0.5 * (c == r).double()).mean())
