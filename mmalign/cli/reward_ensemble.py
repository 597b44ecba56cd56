"""mmalign reward-ensemble CONFIG [key=value ...] --members M --out DIR [--score FILE [--score-root DIR]]"""

from __future__ import annotations

import argparse
import os
import shlex

from ..data.image_limits import set_max_image_pixels
from ..errors import MMAlignError
from ..train.config import load_train_config


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mmalign reward-ensemble", description=(
        "Train M reward models from one config (seeds seed..seed+M-1, complementary halves of the data), then "
        "score every pair with each into OUT/scored.jsonl (scores.reward_models), for the preference_strength "
        "transform (Secrets of RLHF II; docs/reward-models.md). Rerun the same command to resume: finished "
        "members with the same config are skipped."))
    parser.add_argument("config", help="a reward-model training config (head: value, loss bt); keys: "
                                       "configs/reference.yaml; output_dir is replaced by OUT/member-M")
    parser.add_argument("overrides", nargs="*", help="key=value overrides for every member, e.g. max_steps=40")
    parser.add_argument("--members", type=int, default=4, help="reward models in the ensemble (default 4)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--score", default=None, metavar="FILE",
                        help="preference records to score (default: the config's training data)")
    parser.add_argument("--score-root", default=None, metavar="DIR",
                        help="media root of --score (default: its folder)")
    args = parser.parse_intermixed_args(argv)  # key=value overrides before or after the options
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise MMAlignError("reward-ensemble runs as one process (it trains the members one after another); to "
                           "train members on several GPUs, run `mmalign train` per member under torchrun")
    cfg = load_train_config(args.config, args.overrides)
    set_max_image_pixels(cfg.max_image_pixels)
    from ..train.ensemble import run_ensemble  # heavy imports only when training

    result = run_ensemble(cfg, args.out, args.members, score_file=args.score, score_root=args.score_root)
    stats = result.summary["scored"]
    for m in result.members:
        acc = "" if not m.eval else f", held-out accuracy {m.eval['reward_accuracy']:.3f}"
        print(f"member {m.index}: {m.final} (seed {m.seed}, {m.pairs} pairs{acc})")
    print(f"wrote {result.scored}: {stats['records']} pairs x {stats['members']} reward models; mean strength "
          f"{stats['strength_mean']:.3f}, {stats['negative_strength_share']:.1%} below 0, all members agree on "
          f"{stats['members_agree_share']:.1%}")
    print("next, the Secrets-II reward model (flip the weakest 20%, adaptive margin; docs/reward-models.md):\n"
          f"  mmalign train configs/tiny/reward_secrets2_llava.yaml data={shlex.quote(str(result.scored))} "
          f"root={shlex.quote(str(result.root))}")
    return 0
