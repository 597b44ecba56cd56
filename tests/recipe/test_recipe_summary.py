"""The summary's oracle columns, hand-worked with a scripted grader, and a recipe with held-out prompts."""

import csv
from pathlib import Path

from recipe_kit import few_prompts, tiny_recipe

from mmalign.recipe import run_recipe
from mmalign.recipe.summary import oracle_agreement, sample_oracle, win_rate


def grade(records):
    """Scripted: an answer's grade is its length in words."""
    return [[float(len(c["text"].split())) for c in r["candidates"]] for r in records]


def test_oracle_agreement_counts_ties_half_and_skips_pairs_without_reference():
    pairs = [{"reference": "x", "chosen": "a b c", "rejected": "a"},   # 3 > 1: agrees
             {"reference": "x", "chosen": "a", "rejected": "a b"},     # 1 < 2: disagrees
             {"reference": "x", "chosen": "a b", "rejected": "c d"},   # tie: half
             {"chosen": "a b c", "rejected": "a"}]                     # no reference: left out
    assert oracle_agreement(pairs, grade) == 0.5


def test_sample_oracle_and_win_rate_against_the_start():
    answers = [{"id": "p", "reference": "r", "candidates": [{"text": "a b c"}]},
               {"id": "q", "reference": "r", "candidates": [{"text": "a"}]},
               {"id": "s", "reference": "r", "candidates": [{"text": "a b"}]},
               {"id": "new", "reference": "r", "candidates": [{"text": "a b c d"}]}]  # no start answer: out
    start = [{"id": "p", "reference": "r", "candidates": [{"text": "a"}]},
             {"id": "q", "reference": "r", "candidates": [{"text": "a b"}]},
             {"id": "s", "reference": "r", "candidates": [{"text": "c d"}]}]
    assert sample_oracle(answers, grade) == 2.5  # (3 + 1 + 2 + 4) / 4
    assert win_rate(answers, start, grade) == 0.5  # win, loss, tie -> (1 + 0 + 0.5) / 3


def test_heldout_prompts_are_answered_by_the_start_and_every_rounds_model(tmp_path, tiny_llava_path, synth_pairs):
    prompts = few_prompts(synth_pairs, tmp_path)
    cfg = tiny_recipe("iterative_dpo", str(tiny_llava_path), prompts, str(tmp_path / "run"),
                      heldout_prompts=prompts)
    plan = run_recipe(cfg, log=lambda *_: None)
    keys = [s.key for s in plan.stages]
    assert keys[0] == "iter-0/heldout-start" and "iter-1/heldout" in keys and keys[-1] == "iter-2/heldout"
    heldout = next(s for s in plan.stages if s.key == "iter-2/heldout")
    assert heldout.params["model"] == plan.rounds[1].next_policy and heldout.params["temperature"] == 0.0
    rows = list(csv.DictReader(Path(tmp_path / "run/summary.csv").read_text().splitlines()))
    for r in rows:
        assert 0 <= float(r["heldout_oracle"]) <= 10 and 0 <= float(r["heldout_win_rate"]) <= 1
