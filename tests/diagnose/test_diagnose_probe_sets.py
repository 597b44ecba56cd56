"""The probe on constructed feature sets whose answers are known: separable, inseparable, mixed by source."""

from __future__ import annotations

import pytest
import torch

from mmalign.diagnose.probe import ProbeFeatures, ProbeOptions, evaluate_probe
from mmalign.diagnose.prompt_split import prompt_key, split_by_prompt
from mmalign.errors import MMAlignError


def _pairs(n: int, separable: bool, seed: int = 0, dim: int = 6) -> torch.Tensor:
    """[n, 2, dim]: a random prompt vector per pair (0 in feature 0). Separable: feature 0 is +1 for the chosen
    answer and -1 for the rejected one. Inseparable: chosen and rejected share the same vector."""
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(n, dim, generator=g)
    base[:, 0] = 0
    pairs = torch.stack([base, base.clone()], 1)
    if separable:
        pairs[:, 0, 0], pairs[:, 1, 0] = 1.0, -1.0
    return pairs


def _features(parts: list[tuple[str | None, torch.Tensor]]) -> ProbeFeatures:
    pairs = torch.cat([p for _, p in parts])
    keys = [f"{src}-{i}" for src, p in parts for i in range(len(p))]
    sources = [src for src, p in parts for _ in range(len(p))]
    return ProbeFeatures({"last": pairs}, keys, sources)


def test_a_separable_set_scores_one():
    result = evaluate_probe(_features([(None, _pairs(20, True))]), ProbeOptions(pools=("last",)))
    m = result.report["results"]["last"]["all"]
    assert (m["accuracy"], m["auroc"], m["pair_accuracy"], m["train_accuracy"]) == (1.0, 1.0, 1.0, 1.0)
    assert (m["train_prompts"], m["test_prompts"], m["train_pairs"], m["test_pairs"]) == (16, 4, 16, 4)
    assert "by_source" not in result.report["results"]["last"]


def test_an_inseparable_set_scores_exactly_one_half():
    # Chosen and rejected answers of each prompt have the same features, so whatever the probe learns, each
    # held-out prompt gives one right and one wrong answer, and every chosen score ties its rejected one.
    m = evaluate_probe(_features([(None, _pairs(20, False))]), ProbeOptions()).report["results"]["last"]["all"]
    assert (m["accuracy"], m["auroc"], m["pair_accuracy"], m["train_accuracy"]) == (0.5, 0.5, 0.5, 0.5)


def test_each_source_gets_its_own_probe():
    feats = _features([("multi", _pairs(10, True, 1)), ("self", _pairs(10, False, 2)), ("tiny", _pairs(3, True, 3))])
    res = evaluate_probe(feats, ProbeOptions()).report["results"]["last"]
    assert res["by_source"]["multi"]["auroc"] == 1.0
    assert res["by_source"]["self"]["auroc"] == 0.5
    assert res["by_source"]["multi"]["test_prompts"] == 2  # round(0.2 * 10) = 2
    assert "too few prompts" in res["by_source"]["tiny"]["skipped"]
    assert res["all"]["test_pairs"] == 5  # round(0.2 * 23) = 5 prompts of one pair each


def test_the_split_puts_each_prompt_on_one_side():
    keys = [prompt_key("q1"), prompt_key("q1"), prompt_key("q2"), prompt_key("q3"), prompt_key("q4"),
            prompt_key("q5"), prompt_key("q5"), prompt_key("q6")]
    test = split_by_prompt(keys, 0.3, seed=0)
    assert len(test) == 2  # round(0.3 * 6) = 2
    assert split_by_prompt(list(reversed(keys)), 0.3, seed=0) == test  # file order does not matter
    assert split_by_prompt(keys, 0.3, seed=1) != test or split_by_prompt(keys, 0.3, seed=2) != test
    pairs_q5 = {k in test for k in keys if k == prompt_key("q5")}
    assert len(pairs_q5) == 1


def test_prompts_differ_by_media():
    assert prompt_key("<image> What colour?", ["a.png"]) != prompt_key("<image> What colour?", ["b.png"])


def test_too_few_prompts_is_a_clear_error():
    feats = _features([(None, _pairs(3, True))])
    with pytest.raises(MMAlignError, match=r"too few prompts to split by prompt: 3 distinct prompt\(s\)"):
        evaluate_probe(feats, ProbeOptions(), what="pairs.jsonl")
