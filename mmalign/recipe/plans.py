"""The stages of each shipped recipe, laid out in full before anything runs (so `--dry-run` can print
them and every stage's inputs are known paths).

In every recipe a round's training starts from the round's policy, and mmalign's trainer takes the
starting model as the reference (a frozen copy, or with LoRA the adapter-disabled model). So the
reference of round t is the policy of round t-1's end, as SPPO (`ref_model = model`), Self-Rewarding and
Curry-DPO (each stage's model the next one's reference) do. With LoRA a `merge` stage writes the adapter
merged into its base as a plain model folder, and that folder is the next round's policy and reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import from_dict, read_yaml
from ..errors import ConfigError, MMAlignError
from ..train.config import TrainConfig
from ..train.refusals import build_loss
from .config import RECIPE_DEFAULTS, RecipeConfig
from .stage import Stage
from .steps import PROMPTS_FILE

CANDIDATES = "candidates.jsonl"
SCORED = "scored.jsonl"
PAIRS = "pairs.jsonl"


@dataclass
class Round:
    iteration: int
    policy: str  # the model the round samples from and starts training from (= its reference)
    candidates: str = ""  # the policy's candidate file
    scored: str = ""
    pairs: str = ""  # the pairs the round's final training reads (Curry-DPO: the ranked pairs)
    trains: list[str] = field(default_factory=list)  # train stage keys, in order
    next_policy: str = ""
    heldout: str = ""  # next_policy's greedy answers to heldout_prompts (a candidate file), when given


@dataclass
class Plan:
    stages: list[Stage] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)
    heldout_start: str = ""  # the starting model's greedy answers to heldout_prompts, when given


def _strings(value: Any):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


class Planner:
    def __init__(self, cfg: RecipeConfig):
        self.cfg = cfg
        self.out = Path(cfg.output_dir)
        self.root = cfg.root or str(Path(cfg.prompts).parent)
        self.plan = Plan()
        base = {"loss": RECIPE_DEFAULTS[cfg.recipe]["loss"], "seed": cfg.seed}
        if cfg.train_config:
            base = _merged(base, read_yaml(cfg.train_config))
        self.train_base = _merged(base, cfg.train)
        self.lora = self.checked_train({"model": cfg.model, "data": cfg.prompts}).lora.enabled

    def checked_train(self, config: dict[str, Any]) -> TrainConfig:
        """The train settings with `config` over them, refused now (before any stage runs) if wrong."""
        try:
            checked = from_dict(TrainConfig, {**self.train_base, **config, "output_dir": "unused"})
            build_loss(checked)
        except (ConfigError, MMAlignError) as exc:
            raise ConfigError(f"train settings of the recipe ({self.cfg.recipe}): {exc}") from None
        return checked

    def add(self, iteration: int, name: str, kind: str, params: dict[str, Any], after: tuple[str, ...] = ()) -> Path:
        """Append a stage. It depends on the stages named in `after` and on every earlier stage whose folder
        one of its parameters points into (a model, a candidate file, a judge spec naming a model)."""
        found = {a for a in after if a}
        for text in _strings(params):
            found.update(s.key for s in self.plan.stages
                         if text == str(self.out / s.key) or str(self.out / s.key) + "/" in text)
        stage = Stage(iteration, name, kind, params, tuple(sorted(found)))
        self.plan.stages.append(stage)
        return self.out / stage.key

    def judges(self, policy: str) -> list[str]:
        return [j.replace("{policy}", policy).replace("{initial}", self.cfg.model) for j in self.cfg.judges]

    def generate(self, t: int, name: str, model: str, data: str, seed: int, n: int, after: tuple = (),
                 greedy: bool = False, root: str = "") -> Path:
        s = self.cfg.sample
        return self.add(t, name, "generate", {"model": model, "data": data, "root": root or self.root, "n": n,
                                              "temperature": 0.0 if greedy else s.temperature,
                                              "top_p": 1.0 if greedy else s.top_p, "seed": seed,
                                              "max_new_tokens": s.max_new_tokens, "video_frames": s.video_frames,
                                              "device": self.cfg.device}, after)

    def heldout(self, t: int, model: str) -> str:
        """The model's greedy answers to the held-out prompts (iteration 0: the starting model)."""
        if not self.cfg.heldout_prompts:
            return ""
        name = "heldout-start" if t == 0 else "heldout"
        root = self.cfg.root or str(Path(self.cfg.heldout_prompts).parent)  # its media beside it, unless `root`
        return str(self.generate(t, name, model, self.cfg.heldout_prompts, self.cfg.seed, 1, greedy=True,
                                 root=root) / CANDIDATES)

    def score(self, t: int, name: str, data: Path, policy: str, after: str) -> Path:
        return self.add(t, name, "score", {"data": str(data), "judges": self.judges(policy), "root": self.root,
                                           "device": self.cfg.device, "video_frames": self.cfg.sample.video_frames},
                        (after,))

    def train(self, t: int, name: str, model: str, data: Path, after: tuple) -> tuple[str, str]:
        """Add the training (and, with LoRA, the merge); returns (train key, the trained model's folder)."""
        config = {**self.train_base, "model": model, "data": str(data), "root": self.root,
                  "eval_data": self.cfg.eval_data or self.train_base.get("eval_data", "")}
        self.checked_train(config)
        folder = self.add(t, name, "train", {"config": config}, after)
        key = f"iter-{t}/{name}"
        if not self.lora:
            return key, str(folder / "final")
        merged = self.add(t, name.replace("train", "merge"), "merge", {"model": str(folder / "final")}, (key,))
        return key, str(merged)

    def prompts(self, t: int) -> tuple[str, str]:
        """(prompt file of round t, the stage key that writes it or '')."""
        if self.cfg.prompts_per_iteration <= 0:
            return self.cfg.prompts, ""
        folder = self.add(t, "prompts", "slice", {"prompts": self.cfg.prompts, "iteration": t, "seed": self.cfg.seed,
                                                  "count": self.cfg.prompts_per_iteration})
        return str(folder / PROMPTS_FILE), f"iter-{t}/prompts"

    def sample_and_score(self, t: int, policy: str) -> tuple[Round, str]:
        data, after = self.prompts(t)
        gen = self.generate(t, "generate", policy, data, self.cfg.seed + 1000 * t, self.cfg.sample.n, (after,))
        scored = self.score(t, "score", gen / CANDIDATES, policy, f"iter-{t}/generate")
        return Round(t, policy, str(gen / CANDIDATES), str(scored / SCORED)), f"iter-{t}/score"


def standard_round(p: Planner, t: int, policy: str) -> Round:
    """Self-Rewarding, SPPO, iterative DPO: sample, judge, pair, train from the policy."""
    rnd, scored_key = p.sample_and_score(t, policy)
    pairs = p.add(t, "pairs", "pairs", {"data": rnd.scored, "rule": p.cfg.pair_rule}, (scored_key,))
    rnd.pairs = str(pairs / PAIRS)
    key, rnd.next_policy = p.train(t, "train", policy, pairs / PAIRS, (f"iter-{t}/pairs",))
    rnd.trains.append(key)
    return rnd


def curry_round(p: Planner, t: int, policy: str) -> Round:
    """Curry-DPO: ranked answers, stage files easy to hard, one training per stage, each stage's model the
    next stage's start and reference."""
    rnd, scored_key = p.sample_and_score(t, policy)
    pairs = p.add(t, "pairs", "pairs", {"data": rnd.scored, "rule": "ranked"}, (scored_key,))
    rnd.pairs = str(pairs / PAIRS)
    split = p.add(t, "stages", "curry-split", {"data": rnd.pairs, "stages": p.cfg.curry_stages}, (f"iter-{t}/pairs",))
    model, after = policy, f"iter-{t}/stages"
    for k in range(1, p.cfg.curry_stages + 1):
        key, model = p.train(t, f"train-{k}", model, split / f"stage-{k}.jsonl", (f"iter-{t}/stages", after))
        rnd.trains.append(key)
        after = key if not p.lora else f"iter-{t}/merge-{k}"
    rnd.next_policy = model
    return rnd


def temporal_round(p: Planner, t: int, policy: str) -> Round:
    """Temporal Self-Rewarding: chosen from a future model trained one round ahead on (current best,
    anchored worst) pairs, rejected anchored to the starting model's answers, both judged by the policy."""
    rnd, scored_key = p.sample_and_score(t, policy)
    anchor = p.score(t, "anchor-score", p.out / "iter-0" / "anchor-generate" / CANDIDATES, policy,
                     "iter-0/anchor-generate")
    current = p.add(t, "current-pairs", "anchored", {"chosen_from": rnd.scored, "anchor": str(anchor / SCORED)},
                    (scored_key, f"iter-{t}/anchor-score"))
    future_key, future = p.train(t, "future-train", policy, current / PAIRS, (f"iter-{t}/current-pairs",))
    after_future = future_key if not p.lora else f"iter-{t}/future-merge"
    data, slice_key = (p.cfg.prompts, "") if p.cfg.prompts_per_iteration <= 0 else (
        str(p.out / f"iter-{t}" / "prompts" / PROMPTS_FILE), f"iter-{t}/prompts")
    gen = p.generate(t, "future-generate", future, data, p.cfg.seed + 1000 * t + 500,
                     p.cfg.future_samples or p.cfg.sample.n, (after_future, slice_key))
    fscored = p.score(t, "future-score", gen / CANDIDATES, policy, f"iter-{t}/future-generate")
    pairs = p.add(t, "pairs", "anchored", {"chosen_from": str(fscored / SCORED), "anchor": str(anchor / SCORED)},
                  (f"iter-{t}/future-score", f"iter-{t}/anchor-score"))
    rnd.pairs = str(pairs / PAIRS)
    key, rnd.next_policy = p.train(t, "train", policy, pairs / PAIRS, (f"iter-{t}/pairs",))
    rnd.trains.append(key)
    return rnd


ROUNDS = {"self_rewarding": standard_round, "sppo": standard_round, "iterative_dpo": standard_round,
          "curry_dpo": curry_round, "temporal_self_rewarding": temporal_round}


def build_plan(cfg: RecipeConfig) -> Plan:
    p = Planner(cfg)
    if cfg.recipe == "temporal_self_rewarding":  # the anchored answers: the starting model's, once, every prompt
        p.generate(0, "anchor-generate", cfg.model, cfg.prompts, cfg.seed, cfg.sample.n)
    p.plan.heldout_start = p.heldout(0, cfg.model)
    policy = cfg.model
    for t in range(1, cfg.iterations + 1):
        rnd = ROUNDS[cfg.recipe](p, t, policy)
        rnd.heldout = p.heldout(t, rnd.next_policy)
        p.plan.rounds.append(rnd)
        policy = rnd.next_policy
    return p.plan
