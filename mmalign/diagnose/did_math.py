"""The Differential Information Distribution's numbers (Won et al., arXiv 2505.23761; docs/research/objectives.md §9),
from sequence log-probs under a policy π and a reference π_ref. Pure functions of floats; docs/data-quality.md
says how to read them.

The DID from π_ref to π is the normalised likelihood ratio q(y) = (π(y)/π_ref(y)) / Σ_y' π(y')/π_ref(y').
With r(y) = log π(y) − log π_ref(y) (DPO's log-ratio, β = 1), log q(y) = r(y) − log Z, so

- per pair: r_w, r_l and the margin r_w − r_l = log q(y_w) − log q(y_l) (the normaliser cancels); under the
  paper's Theorem 3.3 the preference probability is σ(β · margin) (`p_chosen`);
- per prompt, from K sampled answers (`entropy_over_samples`): q restricted to the distinct sampled answers,
  softmax(r) over them, and its entropy (exact for that set; normalised by log(distinct answers));
- or (`entropy_importance`) a self-normalised importance-sampling estimate of the entropy of q over all
  answers, when the K samples were drawn from π_ref (`ref`) or from π (`policy`); UNCONFIRMED that the paper
  estimates it this way;
- `rejection_weights`: over the distinct sampled answers, the optimal rejected-sampling distribution
  π_l*(y) ∝ π_ref(y)^(1+β) / π(y)^β, the objectives notes' derivation from the theorem (UNCONFIRMED against the
  paper's own statement).
"""

from __future__ import annotations

import math

ESTIMATORS = ("samples", "is-ref", "is-policy")


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def softmax(values: list[float]) -> list[float]:
    total = _logsumexp(values)
    return [math.exp(v - total) for v in values]


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def entropy(probs: list[float]) -> float:
    """−Σ p log p in nats (0 log 0 = 0)."""
    return -sum(p * math.log(p) for p in probs if p > 0)


def pair_quantities(policy: tuple[float, float], ref: tuple[float, float], tokens: tuple[int, int],
                    beta: float) -> dict:
    """Per-pair DID numbers from (chosen, rejected) summed log-probs under the policy and the reference."""
    r_w, r_l = policy[0] - ref[0], policy[1] - ref[1]
    margin = r_w - r_l
    per_token = r_w / max(tokens[0], 1) - r_l / max(tokens[1], 1)
    return {"policy_logps": list(policy), "ref_logps": list(ref), "tokens": list(tokens), "r_chosen": r_w,
            "r_rejected": r_l, "margin": margin, "margin_per_token": per_token, "p_chosen": sigmoid(beta * margin)}


def first_of_each(texts: list[str]) -> list[int]:
    """For each answer, the index of the first answer with the same text (stripped)."""
    seen: dict[str, int] = {}
    return [seen.setdefault(t.strip(), i) for i, t in enumerate(texts)]


def entropy_over_samples(log_ratios: list[float], texts: list[str]) -> tuple[dict, list[float]]:
    """q restricted to the distinct answers: ({entropy, entropy_normalised, distinct}, q of each answer's text).
    `entropy_normalised` is entropy / log(distinct), None with one distinct answer."""
    first = first_of_each(texts)
    distinct = sorted(set(first))
    q_distinct = dict(zip(distinct, softmax([log_ratios[i] for i in distinct])))
    h = entropy(list(q_distinct.values()))
    summary = {"entropy": h, "entropy_normalised": h / math.log(len(distinct)) if len(distinct) > 1 else None,
               "distinct": len(distinct)}
    return summary, [q_distinct[f] for f in first]


def entropy_importance(policy_logps: list[float], ref_logps: list[float], sampler: str) -> tuple[dict, list[float]]:
    """Self-normalised importance estimate of H(q) over all answers from K draws of π_ref (`ref`) or π (`policy`).

    Weights w_k ∝ q(y_k) / s(y_k): exp(log π − 2 log π_ref) for draws from π_ref, exp(−log π_ref) for draws from π;
    Ẑ = mean_k w_k estimates Z = Σ_y π(y)/π_ref(y); H = log Z − E_q[r] with E_q[r] ≈ Σ ŵ_k r_k. Returns
    ({entropy, log_z, ess}, estimated log q(y_k) = r_k − log Ẑ per draw); `ess` = 1 / Σ ŵ_k², the effective
    number of draws (near 1: one draw dominates and the estimate is unreliable)."""
    if sampler not in ("ref", "policy"):
        raise ValueError(f"sampler must be 'ref' or 'policy', got {sampler!r}")
    r = [p - q for p, q in zip(policy_logps, ref_logps)]
    log_w = [p - 2 * q for p, q in zip(policy_logps, ref_logps)] if sampler == "ref" else [-q for q in ref_logps]
    log_z = _logsumexp(log_w) - math.log(len(log_w))
    w = softmax(log_w)
    h = log_z - sum(wk * rk for wk, rk in zip(w, r))
    return {"entropy": h, "log_z": log_z, "ess": 1 / sum(wk * wk for wk in w)}, [rk - log_z for rk in r]


def rejection_weights(policy_logps: list[float], ref_logps: list[float], texts: list[str], beta: float) -> list[float]:
    """π_l*(y) ∝ π_ref(y)^(1+β) / π(y)^β over the distinct answers; each answer gets its text's weight."""
    first = first_of_each(texts)
    distinct = sorted(set(first))
    weights = dict(zip(distinct, softmax([(1 + beta) * ref_logps[i] - beta * policy_logps[i] for i in distinct])))
    return [weights[f] for f in first]
