"""Judges: anything that scores responses (docs/candidates.md).

    from mmalign.judge import build_judge
    judge = build_judge("oracle:noise=1.0")                 # or "pointwise:model=PATH", "pairwise:model=PATH"
    judge.score(records)                                    # [[score or None per candidate] per record]

Built in: the oracle judge (the synthetic world's truth, with optional noise), the generative pointwise judge
(Self-Rewarding's additive 5-point prompt, asked n times and averaged), the generative pairwise judge (asked
in both orders), the reward-model judge (`load_reward(path)`: a model trained with `head: value`) and the
rubric judge (`rubric:model=PATH,rubrics=FILE`: answers graded against `mmalign rubrics build`'s rubrics).
`register_judge_kind` adds more. `score_candidates` is what `mmalign score` runs: several judges over a
candidate file, resumably.
"""

from . import graded  # noqa: F401 - registers the `graded` judge kind (scripts/recipe_miniature.py)
from .base import Judge, PairwiseJudge, derived_seed
from .oracle import OracleJudge
from .reward_model import RewardModelJudge, load_reward
from .score_file import score_candidates
from .spec import (
           JUDGE_KINDS,
           JudgeContext,
           JudgeKind,
           JudgeSpec,
           build_judge,
           parse_judge_spec,
           register_judge_kind,
)

__all__ = ["JUDGE_KINDS", "Judge", "JudgeContext", "JudgeKind", "JudgeSpec", "OracleJudge", "PairwiseJudge",
           "RewardModelJudge", "build_judge", "derived_seed", "load_reward", "parse_judge_spec", "register_judge_kind",
           "score_candidates"]
