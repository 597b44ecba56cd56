"""mmalign bench dpo [--json] [--images 1,2,4,8] [--rejections 1,2,4] [--steps N] [--batch B] [--hidden 256]
[--layers 4] [--px 64] [--answer-tokens 16] [--checkpointing off,on] [--lr 1e-5] [--runs 3] [--tiny] [--out DIR]"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import MMAlignError


def _ints(text: str, flag: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise MMAlignError(f"{flag}: expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise MMAlignError(f"{flag}: expected positive integers, got {text!r}")
    return values


def _switches(text: str) -> tuple[bool, ...]:
    names = {"off": False, "on": True, "false": False, "true": True, "0": False, "1": True}
    out = []
    for v in (v.strip().lower() for v in text.split(",") if v.strip()):
        if v not in names:
            raise MMAlignError(f"--checkpointing: expected off,on (got {v!r})")
        out.append(names[v])
    if not out:
        raise MMAlignError("--checkpointing: expected off, on or off,on")
    return tuple(out)


def main(argv: list[str]) -> int:
    from ..bench.dpo import format_table, run_dpo_bench
    from ..io import write_json_atomic

    parser = argparse.ArgumentParser(
        prog="mmalign bench dpo",
        description="mmalign vs TRL DPOTrainer on the same tiny LLaVA, synthetic multi-image pairs, weights, "
                    "settings and data order; each framework trains in its own subprocess.")
    parser.add_argument("--images", default="4", help="images per prompt, comma-separated sweep (default 4)")
    parser.add_argument("--rejections", default="1",
                        help="rejections per prompt, comma-separated sweep (default 1); each must divide --batch "
                             "(pairs per step); TRL gets the same pairs one per line")
    parser.add_argument("--steps", type=int, default=8, help="optimiser steps (default 8)")
    parser.add_argument("--batch", type=int, default=8, help="pairs per step (default 8)")
    parser.add_argument("--hidden", type=int, default=256, help="decoder hidden size (default 256)")
    parser.add_argument("--layers", type=int, default=4, help="decoder layers (default 4)")
    parser.add_argument("--px", type=int, default=64, help="image side, multiple of 8 (default 64)")
    parser.add_argument("--answer-tokens", type=int, default=16, help="tokens per answer (default 16)")
    parser.add_argument("--checkpointing", default="off,on", help="gradient checkpointing rows (default off,on)")
    parser.add_argument("--lr", type=float, default=1e-5, help="learning rate for both (default 1e-5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=1,
                        help="runs per row, interleaved; each framework's median run is reported (default 1; the "
                             "documented protocol is 3 with OMP_NUM_THREADS=1)")
    parser.add_argument("--tiny", action="store_true",
                        help="smoke-test shape: hidden 32, 1 layer, 16 px, 1 image, 2 steps of 2, checkpointing off")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--out", default=None, help="folder: keep the model, data and runs there and write "
                                                     "dpo_bench.json")
    args = parser.parse_args(argv)
    kw = {"images": _ints(args.images, "--images"), "rejections": _ints(args.rejections, "--rejections"),
              "steps": args.steps, "batch": args.batch, "hidden": args.hidden, "layers": args.layers, "px": args.px,
              "answer_tokens": args.answer_tokens, "checkpointing": _switches(args.checkpointing),
              "learning_rate": args.lr, "seed": args.seed, "runs": args.runs}
    if args.tiny:
        kw.update(images=(1,), steps=2, batch=2, hidden=32, layers=1, px=16, checkpointing=(False,))
    try:
        result = run_dpo_bench(**kw, workdir=args.out)
    except (ValueError, RuntimeError) as exc:
        raise MMAlignError(str(exc)) from None
    if args.out:
        write_json_atomic(Path(args.out) / "dpo_bench.json", result)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0
