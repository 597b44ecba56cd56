"""mmalign train CONFIG [key=value ...]"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from ..data.image_limits import set_max_image_pixels
from ..train.config import load_train_config


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mmalign train", description="Train with a preference objective.")
    parser.add_argument("config", help="YAML config (keys: configs/reference.yaml)")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. loss.beta=0.2 lora.enabled=true")
    parser.add_argument("--dry-run", action="store_true",
                        help="resolve the config, build the model on the meta device (no weights), print "
                             "parameter counts, tokens per sample and a per-device memory estimate; no training")
    dry = parser.add_argument_group("dry run", "what the memory estimate assumes")
    dry.add_argument("--engine", default="ddp", choices=["ddp", "fsdp2", "zero2", "zero3"],
                     help="distributed engine (configs/accelerate/*.yaml)")
    dry.add_argument("--devices", type=int, default=1, help="GPUs in all (processes x machines)")
    dry.add_argument("--images", type=int, default=1, help="images per sample")
    dry.add_argument("--frames", type=int, default=0, help="video frames per sample (0 = no video)")
    dry.add_argument("--image-size", type=int, default=0,
                     help="image side in pixels (0 = the vision tower's native size, 448 for dynamic-resolution "
                          "models)")
    dry.add_argument("--prompt-tokens", type=int, default=64, help="prompt text tokens per sample")
    dry.add_argument("--answer-tokens", type=int, default=128, help="answer tokens per sequence")
    args = parser.parse_args(argv)
    cfg = load_train_config(args.config, args.overrides)
    set_max_image_pixels(cfg.max_image_pixels)  # for this process and the DataLoader workers it forks
    if args.dry_run:
        from ..train.dryrun import dry_run, report

        result = dry_run(cfg, engine=args.engine, devices=args.devices, images=args.images, frames=args.frames,
                         image_size=args.image_size, prompt_tokens=args.prompt_tokens,
                         answer_tokens=args.answer_tokens)
        print(report(result, cfg))
        return 0
    from ..train.trainer import train  # heavy imports only when training

    try:
        result = train(cfg)
    except KeyboardInterrupt:
        print(interrupted_message(cfg, args.config, args.overrides), file=sys.stderr)
        return 130
    if int(os.environ.get("RANK", "0")) != 0:
        return 0  # one report per run, from the main process
    print(f"wrote {result.final_dir}")
    if result.eval is not None:
        print(f"held-out reward accuracy: {result.eval['reward_accuracy']:.3f} "
              f"(mean margin {result.eval['reward_margin']:.3f}, {result.eval['pairs']} pairs)")
    return 0


def interrupted_message(cfg, config: str, overrides: list[str]) -> str:
    """What to type to continue an interrupted run: the same command with resume_from=latest."""
    from ..train.checkpoint import list_checkpoints

    found = list_checkpoints(Path(cfg.output_dir))
    kept = [o for o in overrides if not o.startswith(("resume_from=", "overwrite="))]
    again = shlex.join(["mmalign", "train", config, *kept, "resume_from=latest"])
    if found:
        return f"interrupted; {found[-1]} is the latest checkpoint. Continue from it with:\n  {again}"
    return (f"interrupted before the first checkpoint (save_steps={cfg.save_steps}); rerunning with "
            f"resume_from=latest starts again from step 0:\n  {again}")
