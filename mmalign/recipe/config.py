"""`mmalign recipe` configs: a typed, strict description of an iterative run (docs/recipes.md).

A recipe names one of the shipped loops and the settings of its ordinary mmalign steps. What the loop
does with them (which model samples, which judges, how pairs are made, which model is the reference)
is in `plans.py`; the defaults per recipe, where a paper gives one, are in `RECIPE_DEFAULTS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from ..config import apply_overrides, described, from_dict, read_yaml
from ..errors import ConfigError

RecipeName = Literal["self_rewarding", "temporal_self_rewarding", "sppo", "curry_dpo", "iterative_dpo"]


_f = described  # short: every field below is one


@dataclass
class SampleSettings:
    """`mmalign generate`'s options for the candidates of one iteration."""

    n: int = _f(4, "answers sampled per prompt (Self-Rewarding N = 4, SPPO K = 5)")
    temperature: float = _f(0.7, "sampling temperature (Self-Rewarding and SPPO: 0.7)")
    top_p: float = _f(0.9, "nucleus sampling (Self-Rewarding and SPPO: 0.9)")
    max_new_tokens: int = _f(64, "answer length limit")
    video_frames: int = _f(0, "frames per video, for video prompts")


@dataclass
class RecipeConfig:
    recipe: RecipeName = _f("self_rewarding", "the loop: self_rewarding, temporal_self_rewarding, sppo, curry_dpo, "
                                              "iterative_dpo (docs/recipes.md)")
    model: str = _f("", "the starting policy (a model folder or name): iteration 1 samples from it and uses it as "
                        "the reference")
    prompts: str = _f("", "prompt records (JSONL, as mmalign generate reads them); a `reference` answer, or a "
                          "preference record's `chosen`, lets the oracle judge and the summary's oracle columns work")
    root: str = _f("", "folder that media paths are relative to; empty = the prompts file's folder")
    output_dir: str = _f("runs/recipe", "where iter-N/<stage>/, summary.csv and summary.png go")
    iterations: int = _f(2, "how many rounds")
    prompts_per_iteration: int = _f(0, "> 0: a fresh slice of this many prompts each round (SPPO); 0: every "
                                       "prompt every round")
    seed: int = _f(0, "base seed: prompt slices, sampling (per prompt and sample) and training")
    sample: SampleSettings = field(default_factory=SampleSettings, metadata={"help": "candidate sampling"})
    judges: list[str] = _f([], "judge specs as for mmalign score; '{policy}' is replaced by the current "
                               "iteration's model, '{initial}' by the starting model; empty = the recipe's "
                               "default (RECIPE_DEFAULTS)")
    pair_rule: str = _f("", "mmalign pairs rule; empty = the recipe's default")
    train_config: str = _f("", "a mmalign train YAML the train stages start from (model, data, root, "
                               "output_dir and eval_data are set by the recipe)")
    train: dict = _f({}, "mmalign train keys applied over train_config, e.g. {max_steps: 20, loss: {name: sppo}}")
    eval_data: str = _f("", "held-out preference records: each train stage reports its reward accuracy on them")
    heldout_prompts: str = _f("", "held-out prompts with a known `reference`: the starting model and every round's "
                                  "final model answer them (greedy, one answer each), graded by `oracle`: the "
                                  "summary's heldout_oracle and heldout_win_rate (media relative to `root`, or "
                                  "to the file's folder when root is empty)")
    oracle: str = _f("oracle", "judge spec that grades answers against their `reference` for the summary's oracle "
                               "columns: oracle (one answer word, 0-10), graded (attributes right), ...")
    curry_stages: int = _f(3, "curry_dpo: stages per round, easy to hard by score gap (the paper's 3)")
    future_samples: int = _f(0, "temporal_self_rewarding: answers sampled from the future model per prompt "
                                "(0 = sample.n)")
    device: str = _f("auto", "where generation and model judges run (cpu, cuda, auto)")


RECIPE_DEFAULTS: dict[str, dict] = {
    # Self-Rewarding (Yuan et al. 2024): the model judges its own answers, additive 5-point prompt, 3 samples
    # averaged; best vs worst, ties dropped.
    "self_rewarding": {"judges": ["pointwise:model={policy},samples=3,name=self"], "pair_rule": "best-worst",
                       "loss": {"name": "sigmoid", "beta": 0.1}},
    # Temporal Self-Rewarding (Wang et al. 2025): the same judge; rejections anchored to the starting model's
    # worst answer, chosen from a future model trained one round ahead.
    "temporal_self_rewarding": {"judges": ["pointwise:model={policy},samples=3,name=self"],
                                "pair_rule": "best-worst", "loss": {"name": "sigmoid", "beta": 0.1}},
    # SPPO (Wu et al. 2024): win probabilities sigma(s_i - s_j) over the K samples, soft SPPO loss, beta 0.001.
    "sppo": {"judges": ["reward-model:model=REQUIRED"], "pair_rule": "win-prob:sigmoid",
             "loss": {"name": "sppo", "beta": 0.001}},
    # Curry-DPO (Pattnaik et al. 2024): ranked answers, pairs staged easy to hard, one training per stage.
    "curry_dpo": {"judges": ["reward-model:model=REQUIRED"], "pair_rule": "ranked",
                  "loss": {"name": "sigmoid", "beta": 0.1}},
    # Iterative DPO judged by a reward model or judge (RLAIF-V style): best vs worst of the policy's samples.
    "iterative_dpo": {"judges": ["reward-model:model=REQUIRED"], "pair_rule": "best-worst",
                      "loss": {"name": "sigmoid", "beta": 0.1}},
}


def with_defaults(cfg: RecipeConfig) -> RecipeConfig:
    """`cfg` with the recipe's default judges and pair rule where the config leaves them empty."""
    defaults = RECIPE_DEFAULTS[cfg.recipe]
    return replace(cfg, judges=list(cfg.judges or defaults["judges"]), pair_rule=cfg.pair_rule or defaults["pair_rule"])


def check_recipe(cfg: RecipeConfig, source: str) -> None:
    """Refuse what cannot run, before anything is loaded or written."""
    problems = []
    if not cfg.model:
        problems.append("model: give the starting policy")
    if not cfg.prompts:
        problems.append("prompts: give a prompt file")
    elif not Path(cfg.prompts).is_file():
        problems.append(f"prompts: {cfg.prompts} does not exist")
    if cfg.heldout_prompts and not Path(cfg.heldout_prompts).is_file():
        problems.append(f"heldout_prompts: {cfg.heldout_prompts} does not exist")
    if cfg.iterations < 1:
        problems.append("iterations must be at least 1")
    if cfg.prompts_per_iteration < 0 or cfg.sample.n < 1 or cfg.curry_stages < 1 or cfg.future_samples < 0:
        problems.append("prompts_per_iteration, future_samples >= 0; sample.n, curry_stages >= 1")
    if any("REQUIRED" in spec for spec in cfg.judges):
        problems.append(f"judges: recipe {cfg.recipe} needs a judge (e.g. judges: ['reward-model:model=PATH'] "
                        "or ['oracle'] on synthetic prompts)")
    if cfg.recipe == "sppo" and not cfg.pair_rule.startswith("win-prob"):
        problems.append("sppo: pair_rule must be win-prob or win-prob:sigmoid (the loss reads win probabilities)")
    if cfg.recipe == "curry_dpo" and cfg.sample.n < cfg.curry_stages + 1:
        problems.append(f"curry_dpo: {cfg.curry_stages} stages need sample.n >= {cfg.curry_stages + 1} (each stage "
                        "pairs the best answer with one other, easy to hard)")
    if cfg.recipe == "curry_dpo" and cfg.pair_rule != "ranked":
        problems.append("curry_dpo: pair_rule must be ranked (the stages are cut from ranked answers)")
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))


def load_recipe_config(path: str | Path, overrides: list[str] = ()) -> RecipeConfig:
    cfg = with_defaults(from_dict(RecipeConfig, apply_overrides(read_yaml(path), list(overrides))))
    check_recipe(cfg, str(path))
    return cfg
