"""Iterative recipes (`mmalign recipe`): Self-Rewarding, Temporal Self-Rewarding, SPPO, Curry-DPO and iterative
DPO as resumable multi-stage runs of mmalign's own steps (docs/recipes.md)."""

from .config import RECIPE_DEFAULTS, RecipeConfig, load_recipe_config
from .plans import Plan, build_plan
from .runner import run_recipe

__all__ = ["RECIPE_DEFAULTS", "Plan", "RecipeConfig", "build_plan", "load_recipe_config", "run_recipe"]
