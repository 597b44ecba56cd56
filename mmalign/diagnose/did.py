"""`mmalign data did`: Differential Information diagnostics of preference pairs or sampled candidates.

    scorer = ModelScorer(load(policy), load(reference), root)
    rows, report = did_pairs(records, scorer, DidOptions())            # preference records
    rows, report = did_candidates(candidate_records, scorer, DidOptions())  # `mmalign generate` output

Every answer is scored under its record's prompt and media by the policy and the reference (summed answer
log-probs, the trainer's scoring core). Pairs get `meta.did` (`did_math.pair_quantities`, plus the prompt's
entropy when a candidates file is given); candidate records get `meta.did` (the prompt's DID entropy) and
`candidates[k].did` (log-probs, log-ratio, q, rejection weight). Input records are copied, never modified.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..data.schema import as_messages
from ..errors import MMAlignError
from ..progress import bar, duration
from . import did_math
from .answers import Context, answer_logps, model_device, on_device, scoring_batch, text_answer
from .prompt_split import prompt_key

# contexts -> (policy log-probs, reference log-probs, answer token counts), one per answer in order
Scorer = Callable[[list[Context]], tuple[list[float], list[float], list[int]]]


@dataclass(frozen=True)
class DidOptions:
    beta: float = 0.1  # for p_chosen = sigmoid(beta * margin) and the rejection weights
    entropy: str = "samples"  # samples | is-ref | is-policy (did_math)
    batch_size: int = 8


class ModelScorer:
    """A `Scorer` from two loaded models (mmalign.models.load); each reads the text with its own template."""

    def __init__(self, policy, reference, root, backend: str = "auto"):
        from ..data.collate import PreferenceCollator
        from ..train.backend import choose_backend, decoder_config
        from ..train.step import PairForward

        self.sides = []
        for loaded in (policy, reference):
            collator = PreferenceCollator(loaded.processor, loaded.adapter, root)
            name = choose_backend(backend, loaded.adapter.family, decoder_config(loaded.model)).name
            self.sides.append((loaded.model.eval(), collator, PairForward(loaded.adapter, collator.pad_token_id, name)))

    def __call__(self, contexts: list[Context]):
        out = []
        for model, collator, forward in self.sides:
            out.append(answer_logps(model, forward, on_device(scoring_batch(collator, contexts), model_device(model))))
        (policy, counts), (ref, _) = out
        return policy.tolist(), ref.tolist(), [int(c) for c in counts.tolist()]


def _score_all(contexts: list[Context], scorer: Scorer, batch_size: int, what: str, progress: bool):
    policy, ref, counts = [], [], []
    start = time.perf_counter()
    with bar(total=len(contexts), desc=f"scoring {what}", unit=f" {what}", enabled=progress) as shown:
        for first in range(0, len(contexts), batch_size):
            chunk = contexts[first:first + batch_size]
            p, r, n = scorer(chunk)
            expected = sum(len(c.answers) for c in chunk)
            if not len(p) == len(r) == len(n) == expected:
                raise ValueError(f"the scorer returned {len(p)}/{len(r)}/{len(n)} values for {expected} answers")
            policy += p
            ref += r
            counts += n
            shown.update(len(chunk))
    if progress:
        print(f"scored {len(contexts)} {what} under both models in {duration(time.perf_counter() - start)}")
    return policy, ref, counts


def _check(options: DidOptions) -> None:
    if options.entropy not in did_math.ESTIMATORS:
        raise MMAlignError(f"--entropy {options.entropy!r}: choose from {', '.join(did_math.ESTIMATORS)}")
    if options.batch_size < 1:
        raise MMAlignError("--batch-size must be at least 1")


def candidate_context(record: dict) -> Context:
    return Context(as_messages(record["prompt"], "prompt", "user"), list(record.get("images") or []),
                   list(record.get("videos") or []), [text_answer(c["text"]) for c in record["candidates"]])


def did_candidates(records: list[dict], scorer: Scorer, options: DidOptions, *, progress: bool = True):
    """(records with `meta.did` and `candidates[k].did`, summary) for candidate-file records."""
    _check(options)
    contexts = [candidate_context(r) for r in records]
    policy, ref, counts = _score_all(contexts, scorer, options.batch_size, "prompts", progress)
    rows, at = [], 0
    for record, ctx in zip(records, contexts):
        k = len(ctx.answers)
        lp, lr, n = policy[at:at + k], ref[at:at + k], counts[at:at + k]
        at += k
        texts = [c["text"] for c in record["candidates"]]
        ratios = [p - q for p, q in zip(lp, lr)]
        if options.entropy == "samples":
            summary, q = did_math.entropy_over_samples(ratios, texts)
            q_key = "q"
        else:
            summary, q = did_math.entropy_importance(lp, lr, options.entropy.removeprefix("is-"))
            q_key = "log_q"
        weights = did_math.rejection_weights(lp, lr, texts, options.beta)
        row = copy.deepcopy(record)
        row["meta"] = {**(row.get("meta") or {}), "did": {**summary, "estimator": options.entropy, "samples": k}}
        for cand, p_, r_, n_, q_, w_ in zip(row["candidates"], lp, lr, n, q, weights):
            cand["did"] = {"policy_logp": p_, "ref_logp": r_, "tokens": n_, "log_ratio": p_ - r_, q_key: q_,
                           "rejection_weight": w_}
        rows.append(row)
    return rows, candidates_summary(rows, options)


def candidates_summary(rows: list[dict], options: DidOptions) -> dict:
    dids = [r["meta"]["did"] for r in rows]
    entropies = [d["entropy"] for d in dids]
    out = {"kind": "candidates", "prompts": len(rows), "candidates": sum(d["samples"] for d in dids),
           "estimator": options.entropy, "beta": options.beta, "entropy": _stats(entropies)}
    if options.entropy == "samples":
        normalised = [d["entropy_normalised"] for d in dids if d["entropy_normalised"] is not None]
        out["entropy_normalised"] = _stats(normalised)
        out["single_answer_prompts"] = sum(d["entropy_normalised"] is None for d in dids)
    else:
        out["ess"] = _stats([d["ess"] for d in dids])
    return out


def did_pairs(records: list, scorer: Scorer, options: DidOptions, *, entropy_by_prompt: dict | None = None,
              progress: bool = True):
    """(raw records with `meta.did`, summary) for preference records (PreferenceRecord)."""
    _check(options)
    contexts = [Context(r.prompt, r.images, r.videos, [r.chosen, r.rejected]) for r in records]
    policy, ref, counts = _score_all(contexts, scorer, options.batch_size, "pairs", progress)
    rows, missing = [], 0
    for i, rec in enumerate(records):
        did = did_math.pair_quantities((policy[2 * i], policy[2 * i + 1]), (ref[2 * i], ref[2 * i + 1]),
                                       (counts[2 * i], counts[2 * i + 1]), options.beta)
        if entropy_by_prompt is not None:
            found = entropy_by_prompt.get(prompt_key(rec.prompt, rec.images, rec.videos))
            missing += found is None
            if found is not None:
                did["prompt"] = found
        row = copy.deepcopy(rec.raw)
        row["meta"] = {**(row.get("meta") or {}), "did": did}
        rows.append(row)
    return rows, pairs_summary(rows, options, missing if entropy_by_prompt is not None else None)


def pairs_summary(rows: list[dict], options: DidOptions, missing: int | None) -> dict:
    dids = [r["meta"]["did"] for r in rows]
    margins = [d["margin"] for d in dids]
    out = {"kind": "pairs", "pairs": len(rows), "beta": options.beta, "margin": _stats(margins),
           "margin_per_token": _stats([d["margin_per_token"] for d in dids]),
           "p_chosen": _stats([d["p_chosen"] for d in dids]),
           "margin_positive_share": sum(m > 0 for m in margins) / max(len(margins), 1),
           "r_chosen": _stats([d["r_chosen"] for d in dids]), "r_rejected": _stats([d["r_rejected"] for d in dids])}
    if missing is not None:
        out["pairs_without_candidates"] = missing
    return out


def entropy_table(candidate_rows: list[dict]) -> dict[str, dict]:
    """prompt key -> the prompt's `meta.did` summary, for attaching to pairs of the same prompt."""
    table = {}
    for row in candidate_rows:
        ctx = candidate_context(row)
        table[prompt_key(ctx.prompt, ctx.images, ctx.videos)] = row["meta"]["did"]
    return table


def _stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    s = sorted(values)
    n = len(s)

    def quantile(f):  # linear interpolation between order statistics
        pos = f * (n - 1)
        lo = int(pos)
        return s[lo] + (s[min(lo + 1, n - 1)] - s[lo]) * (pos - lo)

    return {"n": n, "mean": sum(s) / n, "min": s[0], "p10": quantile(0.1), "median": quantile(0.5),
            "p90": quantile(0.9), "max": s[-1]}
