"""mmalign bench logps [--positions M] [--hidden H] [--vocab V] [--dtype fp32|bf16] [--device cpu|cuda]
[--json] [--out DIR]"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import MMAlignError


def main(argv: list[str]) -> int:
    from ..bench.logps import QWEN_VOCAB, format_table, run_logps_bench
    from ..io import write_json_atomic

    parser = argparse.ArgumentParser(
        prog="mmalign bench logps",
        description="Peak memory of the log-prob step (head, log-probs, backward): full float32 log-softmax vs "
                    "chunked label log-probs, each in a fresh process.")
    parser.add_argument("--positions", type=int, default=1024, help="scored positions M (default 1024)")
    parser.add_argument("--hidden", type=int, default=256, help="hidden size H (default 256)")
    parser.add_argument("--vocab", type=int, default=QWEN_VOCAB, help=f"output head size (default {QWEN_VOCAB:,}, Qwen)")
    parser.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    parser.add_argument("--out", default=None, help="folder: also write logps_bench.json there")
    args = parser.parse_args(argv)
    for flag in ("positions", "hidden", "vocab"):
        if getattr(args, flag) < 1:
            raise MMAlignError(f"--{flag} must be at least 1")
    try:
        result = run_logps_bench(args.positions, args.hidden, args.vocab, args.dtype, args.device)
    except RuntimeError as exc:
        raise MMAlignError(str(exc)) from exc
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    if args.out:
        write_json_atomic(Path(args.out) / "logps_bench.json", result)
    return 0
