"""mmalign recipe CONFIG [key=value ...] [--dry-run]"""

from __future__ import annotations

import argparse


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mmalign recipe", description=(
        "Run an iterative recipe (self_rewarding, temporal_self_rewarding, sppo, curry_dpo, iterative_dpo) as "
        "stages of mmalign generate, score, pairs and train under OUTPUT_DIR/iter-N/<stage>/. Rerun the same "
        "command to resume: finished stages whose settings are unchanged are skipped, an interrupted stage "
        "starts again. See docs/recipes.md."))
    parser.add_argument("config", help="recipe YAML (configs/recipes/*.yaml)")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. iterations=3 train.max_steps=20")
    parser.add_argument("--dry-run", action="store_true", help="print the rounds, stages and commands; run nothing")
    args = parser.parse_args(argv)
    from ..recipe import load_recipe_config, run_recipe

    cfg = load_recipe_config(args.config, args.overrides)
    run_recipe(cfg, dry_run=args.dry_run)
    return 0
