"""The separability probe ("More is Less", docs/research/objectives.md §13): can a linear classifier on a model's
hidden states tell chosen answers from rejected ones? Pairs whose chosen answers come from another, stronger
model are nearly linearly separable from their rejections, and DPO on them learns the surface cue; pairs from
one model's own samples are not. docs/data-quality.md says how to read the numbers.

    feats = extract_features(loaded, records, root, ProbeOptions())   # one pass of the model
    result = evaluate_probe(feats, ProbeOptions())                     # probes, held-out metrics

Per pair, the pooled hidden states of [prompt + chosen] (label 1) and [prompt + rejected] (label 0)
(`hidden.py`); a logistic-regression probe per pooling, trained on the pairs of 1 - test_fraction of the
prompts and tested on the rest (`prompt_split.py`: no prompt on both sides); and, when records carry
`meta.source`, one probe per source, trained and tested on that source's pairs alone. The rejected answer is
read under the record's own prompt and media (`rejected_prompt`, `rejected_images` and `rejected_list` are
not used).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..data.collate import PreferenceCollator
from ..errors import DataError, MMAlignError
from ..io import iter_jsonl
from ..progress import bar, duration
from .answers import Context, model_device, on_device, scoring_batch
from .hidden import check_pools, pooled_hidden
from .logistic import fit_logistic
from .metrics import accuracy, auroc, pair_accuracy
from .prompt_split import prompt_key, split_by_prompt

NO_SOURCE = "(no source)"


@dataclass(frozen=True)
class ProbeOptions:
    layer: int = -1
    pools: tuple[str, ...] = ("last", "mean")
    c: float = 1.0  # inverse L2 strength, scikit-learn's C
    test_fraction: float = 0.2
    seed: int = 0
    batch_size: int = 8


@dataclass
class ProbeFeatures:
    features: dict[str, torch.Tensor]  # pool -> [B, 2, H]: each pair's chosen (0) and rejected (1) answer
    keys: list[str]  # prompt identity per pair
    sources: list[str | None]  # meta.source per pair
    layer: int = -1
    hidden_layers: int = 0  # len(hidden_states): decoder layers + 1


@dataclass
class ProbeResult:
    report: dict
    decisions: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)  # pool -> chosen/rejected logits


def check_two_classes(path: str | Path) -> None:
    """A clear error for a file that holds one kind of answer only (a candidate or SFT file)."""
    seen = False
    for _, obj in iter_jsonl(path):
        if isinstance(obj, dict) and "chosen" in obj and "rejected" in obj:
            return
        seen = seen or isinstance(obj, dict)
    if not seen:
        return  # nothing but malformed lines: the record reader reports them with file:line
    raise DataError(f"{path}: one class only: no record has both a 'chosen' and a 'rejected' answer, and the probe "
                    "separates the two (for a candidates file, make pairs first with `mmalign pairs`)")


def extract_features(loaded, records, root, options: ProbeOptions, *, progress: bool = True) -> ProbeFeatures:
    """Pooled hidden states of every pair's chosen and rejected answer under `loaded` (mmalign.models.load)."""
    pools = check_pools(options.pools)
    collator = PreferenceCollator(loaded.processor, loaded.adapter, root)
    model = loaded.model.eval()
    device = model_device(model)
    parts: dict[str, list[torch.Tensor]] = {p: [] for p in pools}
    start = time.perf_counter()
    with bar(total=len(records), desc="hidden states", unit=" pairs", enabled=progress) as shown:
        for first in range(0, len(records), options.batch_size):
            chunk = records[first:first + options.batch_size]
            contexts = [Context(r.prompt, r.images, r.videos, [r.chosen, r.rejected]) for r in chunk]
            sb = on_device(scoring_batch(collator, contexts), device)
            pooled = pooled_hidden(model, loaded.adapter, sb, collator.pad_token_id, options.layer, pools)
            for p in pools:
                parts[p].append(pooled[p].view(len(chunk), 2, -1))
            shown.update(len(chunk))
    if progress:
        print(f"hidden states of {len(records)} pairs in {duration(time.perf_counter() - start)}")
    return ProbeFeatures({p: torch.cat(v) for p, v in parts.items()},
                         [prompt_key(r.prompt, r.images, r.videos) for r in records],
                         [_source(r.meta) for r in records], options.layer, _hidden_layers(model))


def _hidden_layers(model) -> int:
    from ..train.backend import decoder_config

    return int(getattr(decoder_config(model), "num_hidden_layers", -1)) + 1


def _source(meta) -> str | None:
    value = (meta or {}).get("source")
    return None if value is None else str(value)


def _fit(pairs: torch.Tensor, train: list[int], test: list[int], c: float):
    xt = pairs[train]
    x = torch.cat([xt[:, 0], xt[:, 1]])
    y = torch.cat([torch.ones(len(train)), torch.zeros(len(train))])
    probe = fit_logistic(x, y, c=c)
    xs = pairs[test]
    chosen, rejected = probe.decision(xs[:, 0]), probe.decision(xs[:, 1])
    decisions = torch.cat([chosen, rejected])
    labels = torch.cat([torch.ones(len(test)), torch.zeros(len(test))])
    train_dec = probe.decision(x)
    metrics = {"accuracy": accuracy(torch.sigmoid(decisions), labels), "auroc": auroc(decisions, labels),
               "pair_accuracy": pair_accuracy(chosen, rejected),
               "train_accuracy": accuracy(torch.sigmoid(train_dec), y), "train_auroc": auroc(train_dec, y),
               "iterations": probe.iterations}
    return metrics, {"chosen": chosen, "rejected": rejected}


def _group(pairs: torch.Tensor, keys: list[str], rows: list[int], options: ProbeOptions, what: str):
    test_keys = split_by_prompt([keys[i] for i in rows], options.test_fraction, options.seed, what)
    train = [i for i in rows if keys[i] not in test_keys]
    test = [i for i in rows if keys[i] in test_keys]
    metrics, decisions = _fit(pairs, train, test, options.c)
    sides = {"train_prompts": len({keys[i] for i in train}), "test_prompts": len(test_keys),
             "train_pairs": len(train), "test_pairs": len(test)}
    return {**sides, **metrics}, decisions


def evaluate_probe(feats: ProbeFeatures, options: ProbeOptions, what: str = "the data") -> ProbeResult:
    """Probes on all pairs and per source (see the module docstring); raises MMAlignError for too few prompts."""
    n = len(feats.keys)
    rows = list(range(n))
    sources = sorted({s if s is not None else NO_SOURCE for s in feats.sources}) if any(
        s is not None for s in feats.sources) else []
    results, decisions = {}, {}
    for pool, pairs in feats.features.items():
        if pairs.shape[:2] != (n, 2):
            raise ValueError(f"pool {pool}: features must be [{n}, 2, H], got {tuple(pairs.shape)}")
        overall, decisions[pool] = _group(pairs, feats.keys, rows, options, what)
        by_source = {}
        for src in sources:
            picked = [i for i in rows if (feats.sources[i] or NO_SOURCE) == src]
            try:
                by_source[src] = _group(pairs, feats.keys, picked, options, f"source {src!r}")[0]
            except MMAlignError as exc:
                by_source[src] = {"skipped": str(exc), "pairs": len(picked)}
        results[pool] = {"all": overall, **({"by_source": by_source} if sources else {})}
    report = {"pairs": n, "prompts": len(set(feats.keys)), "layer": feats.layer,
              "hidden_layers": feats.hidden_layers, "pools": list(feats.features), "c": options.c,
              "test_fraction": options.test_fraction, "seed": options.seed, "results": results}
    return ProbeResult(report, decisions)
