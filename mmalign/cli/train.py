"""mmalign train CONFIG [key=value ...]"""

from __future__ import annotations

import argparse

from ..config import apply_overrides, from_dict, read_yaml
from ..train.config import TrainConfig


def load_config(path: str, overrides: list[str]) -> TrainConfig:
    data = apply_overrides(read_yaml(path), overrides)
    return from_dict(TrainConfig, data)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mmalign train", description="Train with a preference objective.")
    parser.add_argument("config", help="YAML config (keys: configs/reference.yaml)")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. loss.beta=0.2 lora.enabled=true")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.overrides)
    from ..train.trainer import train  # heavy imports only when training

    result = train(cfg)
    print(f"wrote {result.final_dir}")
    if result.eval is not None:
        print(f"held-out reward accuracy: {result.eval['reward_accuracy']:.3f} "
              f"(mean margin {result.eval['reward_margin']:.3f}, {result.eval['pairs']} pairs)")
    return 0
