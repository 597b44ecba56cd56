"""Pure dataset transforms over raw preference records (lists of dicts in, new lists out).

    from mmalign.data.transforms import apply_transforms
    pairs = apply_transforms(records, [{"name": "fdpo_flip"}, {"name": "score_gap_filter", "threshold": 2}])

Inputs are never modified and unknown fields are kept. See docs/objectives.md for the papers.
"""

from .balance import balance_answers
from .curriculum import curry_pairs, split_stages
from .ensemble import preference_strength
from .factuality import fdpo_flip
from .pairs import swap_pair
from .registry import apply_transforms, available_transforms, transform, transform_options
from .relabel import GOAL_TEMPLATE, reward_augment
from .score_gap import score_gap_filter

__all__ = [
    "GOAL_TEMPLATE",
    "apply_transforms",
    "available_transforms",
    "balance_answers",
    "curry_pairs",
    "fdpo_flip",
    "preference_strength",
    "reward_augment",
    "score_gap_filter",
    "split_stages",
    "swap_pair",
    "transform",
    "transform_options",
]
