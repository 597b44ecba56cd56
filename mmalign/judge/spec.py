"""Judges by name: `--judge SPEC` on the command line, `build_judge(spec)` from Python.

    oracle                                  the synthetic world's truth (mmalign.judge.oracle)
    oracle:noise=1.5,seed=3                 ... with Gaussian noise
    pointwise:model=PATH[,samples=3,temperature=0.7,top_p=0.9,prompt=FILE,max_score=5,max_new_tokens=128]
    pairwise:model=PATH[,prompt=FILE,samples=1,temperature=0]
    reward-model:model=PATH[,batch_size=8]   a reward model trained with `head: value` (mmalign.judge.reward_model)
    rubric:model=PATH,rubrics=FILE[,missing=error|skip,max_score=10,use_rejected=false]   each answer graded
                                            against its prompt's rubric (mmalign.judge.rubric; mmalign rubrics)
    any kind: name=NAME                     the key the scores are kept under (default: kind, or kind-<model folder>)

Extension point: `register_judge_kind(kind, JudgeKind(build, options, help))` adds a kind (the built-in kinds
below register this way); `build(options, context)` gets the
options already converted to the declared types and returns an object with the `mmalign.judge.base.Judge`
interface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MMAlignError


@dataclass(frozen=True)
class JudgeContext:
    """What a judge needs beyond its own options: where media live and where to run a model."""

    root: Path = Path(".")
    device: str = "auto"
    dtype: str | None = None
    video_frames: int = 0


@dataclass(frozen=True)
class JudgeKind:
    build: Callable[[dict[str, Any], JudgeContext], Any]
    options: dict[str, tuple[type, Any]]  # name -> (type, default); a default of ... means required
    help: str = ""
    default_name: Callable[[dict[str, Any]], str] | None = None


@dataclass(frozen=True)
class JudgeSpec:
    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    text: str = ""


JUDGE_KINDS: dict[str, JudgeKind] = {}


def register_judge_kind(kind: str, entry: JudgeKind) -> None:
    if kind in JUDGE_KINDS:
        raise ValueError(f"judge kind {kind!r} registered twice")
    JUDGE_KINDS[kind] = entry


def _convert(kind: str, key: str, raw: str, typ: type) -> Any:
    try:
        if typ is bool:
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError(raw)
            return raw.lower() in ("true", "1")
        return typ(raw)
    except ValueError:
        raise MMAlignError(f"judge {kind}: option {key}={raw!r} is not a {typ.__name__}") from None


def parse_judge_spec(text: str) -> JudgeSpec:
    """"kind:key=value,key=value" -> JudgeSpec, options typed and checked (unknown ones listed)."""
    kind, _, rest = text.strip().partition(":")
    if kind not in JUDGE_KINDS:
        raise MMAlignError(f"unknown judge {kind!r} in {text!r}; judges: {', '.join(sorted(JUDGE_KINDS))}")
    entry = JUDGE_KINDS[kind]
    valid = {"name": (str, ""), **entry.options}
    options: dict[str, Any] = {}
    for pair in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, raw = pair.partition("=")
        if not sep or key not in valid:
            listing = ", ".join(f"{k}={'REQUIRED' if d is ... else d}" for k, (_, d) in valid.items())
            raise MMAlignError(f"judge {kind}: bad option {pair!r}; valid: {listing}")
        options[key] = _convert(kind, key, raw, valid[key][0])
    for key, (_, default) in valid.items():
        if key not in options:
            if default is ...:
                raise MMAlignError(f"judge {kind} needs {key}=... (e.g. {kind}:{key}=VALUE)")
            options[key] = default
    name = options.pop("name") or (entry.default_name(options) if entry.default_name else kind)
    return JudgeSpec(kind, options, name, text)


def build_judge(spec: str | JudgeSpec, context: JudgeContext = JudgeContext()):
    """The judge a spec names (models are loaded here)."""
    spec = parse_judge_spec(spec) if isinstance(spec, str) else spec
    judge = JUDGE_KINDS[spec.kind].build(spec.options, context)
    judge.name = spec.name
    return judge


# ----------------------------------------------------------------------------------- built-in kinds

def _oracle(options: dict, context: JudgeContext):
    from .oracle import OracleJudge

    if options["noise"] < 0:
        raise MMAlignError("judge oracle: noise must be >= 0")
    return OracleJudge(noise=options["noise"], seed=options["seed"])


MODEL_OPTIONS: dict[str, tuple[type, Any]] = {
    "model": (str, ...), "prompt": (str, ""), "samples": (int, 1), "temperature": (float, 0.0),
    "top_p": (float, 1.0), "max_new_tokens": (int, 128), "batch_size": (int, 8), "seed": (int, 0),
}


def load_asker(options: dict, context: JudgeContext):
    """The model of a model judge's options (MODEL_OPTIONS), loaded and wrapped to answer judge prompts;
    `mmalign rubrics build` loads its writer and judge this way too."""
    import torch

    from ..models import load
    from .generative import Asker

    device = context.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    loaded = load(options["model"], dtype=context.dtype, device=device)
    return Asker(loaded.model, loaded.processor, loaded.adapter, Path(context.root), samples=options["samples"],
                 temperature=options["temperature"], top_p=options["top_p"],
                 max_new_tokens=options["max_new_tokens"], batch_size=options["batch_size"], seed=options["seed"],
                 video_frames=context.video_frames)


def _pointwise(options: dict, context: JudgeContext):
    from .generative import load_template
    from .pointwise import DEFAULT_PROMPT, PointwiseJudge

    template = load_template(options["prompt"], DEFAULT_PROMPT, ("prompt", "response"))
    return PointwiseJudge("pointwise", load_asker(options, context), template, max_score=options["max_score"])


def _pairwise(options: dict, context: JudgeContext):
    from .generative import load_template
    from .pairwise import DEFAULT_PROMPT, PairwiseModelJudge

    template = load_template(options["prompt"], DEFAULT_PROMPT, ("prompt", "response_a", "response_b"))
    return PairwiseModelJudge("pairwise", load_asker(options, context), template)


def _reward_model(options: dict, context: JudgeContext):
    from .reward_model import load_reward

    device = context.device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    return load_reward(options["model"], root=context.root, device=device, dtype=context.dtype,
                       video_frames=context.video_frames, batch_size=options["batch_size"])


def _rubric(options: dict, context: JudgeContext):
    from .rubric import build_rubric_judge

    return build_rubric_judge(options, context, load_asker)


def _model_name(kind: str) -> Callable[[dict], str]:
    return lambda options: f"{kind}-{Path(options['model'].rstrip('/')).name}"


register_judge_kind("oracle", JudgeKind(_oracle, {"noise": (float, 0.0), "seed": (int, 0)},
                                        "the synthetic world's truth (reference), optional Gaussian noise"))
# Self-Rewarding: 3 samples at temperature 0.7 / top-p 0.9 (the unofficial reproduction's settings).
register_judge_kind("pointwise", JudgeKind(
    _pointwise, {**MODEL_OPTIONS, "samples": (int, 3), "temperature": (float, 0.7), "top_p": (float, 0.9),
                 "max_score": (float, 5.0)},
    "a model with Self-Rewarding's additive 5-point prompt, asked `samples` times, averaged",
    _model_name("pointwise")))
register_judge_kind("pairwise", JudgeKind(_pairwise, dict(MODEL_OPTIONS),
                                          "a model comparing two responses, asked in both orders",
                                          _model_name("pairwise")))
register_judge_kind("reward-model", JudgeKind(_reward_model, {"model": (str, ...), "batch_size": (int, 8)},
                                              "a reward model trained with head: value (docs/reward-models.md): "
                                              "one score per candidate", _model_name("reward-model")))
# Greedy and asked once (MODEL_OPTIONS' defaults): the rubric, not sampling, makes the judgment (our choice;
# OpenRubrics' decoding is not published). 256 tokens: the prompt asks for a line per criterion.
register_judge_kind("rubric", JudgeKind(
    _rubric, {**MODEL_OPTIONS, "rubrics": (str, ...), "max_score": (float, 10.0), "max_new_tokens": (int, 256),
              "missing": (str, "error"), "use_rejected": (bool, False)},
    "a model grading each answer 0-10 against its prompt's rubric (mmalign rubrics build)", _model_name("rubric")))
