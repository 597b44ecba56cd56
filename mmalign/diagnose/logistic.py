"""L2-regularised logistic regression in torch (float64, full-batch L-BFGS), the separability probe's classifier.

    probe = fit_logistic(x_train, y_train, c=1.0)     # x [N, D], y [N] in {0, 1}
    probe.proba(x_test)                              # P(label 1) per row

The objective is scikit-learn's `LogisticRegression(C=c)` (lbfgs): ½‖w‖² + C · Σᵢ BCE(b + w·zᵢ, yᵢ), the
intercept b not penalised, with zᵢ the features standardised by the training rows' mean and standard
deviation (constant features become 0). `c=math.inf` drops the penalty (the maximum-likelihood fit).
Deterministic on a CPU: no random initialisation (w = 0, b = 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class LogisticProbe:
    mean: torch.Tensor  # [D] training feature means (float64)
    scale: torch.Tensor  # [D] training feature standard deviations (1 where a feature is constant)
    weight: torch.Tensor  # [D] on standardised features
    bias: float
    c: float
    iterations: int

    def decision(self, x) -> torch.Tensor:
        """Logits b + w·z [N] (float64)."""
        z = (torch.as_tensor(x).double() - self.mean) / self.scale
        return z @ self.weight + self.bias

    def proba(self, x) -> torch.Tensor:
        return torch.sigmoid(self.decision(x))


def fit_logistic(x, y, *, c: float = 1.0, max_iter: int = 500, tol: float = 1e-10) -> LogisticProbe:
    """Fit the probe (see the module docstring); `y` must hold both classes."""
    x = torch.as_tensor(x).double()
    y = torch.as_tensor(y).double().flatten()
    if x.dim() != 2 or x.shape[0] != y.numel():
        raise ValueError(f"features must be [N, D] with N = {y.numel()} labels, got {tuple(x.shape)}")
    if not bool(((y == 0) | (y == 1)).all()):
        raise ValueError("labels must be 0 or 1")
    if int(y.sum()) in (0, y.numel()):
        raise ValueError(f"one class only: all {y.numel()} labels are {int(y[0]) if y.numel() else '-'}; the probe "
                         "needs chosen (1) and rejected (0) answers")
    if not c > 0:
        raise ValueError(f"c must be positive (math.inf: no penalty), got {c}")
    mean = x.mean(0)
    scale = x.std(0, unbiased=False)
    scale = torch.where(scale > 1e-12 * (1 + mean.abs()), scale, torch.ones_like(scale))
    z = (x - mean) / scale
    n = y.numel()
    penalty = 0.0 if math.isinf(c) else 1.0 / (2 * c * n)  # the objective divided by C·n
    w = torch.zeros(z.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=max_iter, tolerance_grad=tol, tolerance_change=tol ** 2,
                            history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(z @ w + b, y) + penalty * (w * w).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    iterations = int(opt.state[opt._params[0]].get("n_iter", 0))
    return LogisticProbe(mean, scale, w.detach().clone(), float(b.detach()), c, iterations)
