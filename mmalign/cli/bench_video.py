"""mmalign bench video [--videos N] [--frames F] [--px P] [--samples S] [--repeats R]
[--backends decord,pyav] [--perturbations a,b] [--threads T] [--json] [--out DIR]"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import MMAlignError


def _names(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(n.strip() for n in text.split(",") if n.strip())


def main(argv: list[str]) -> int:
    from ..augment.video import PERTURBATIONS
    from ..bench.video import format_table, run_video_bench
    from ..io import write_json_atomic

    parser = argparse.ArgumentParser(
        prog="mmalign bench video",
        description="Decoded (+ perturbed) frames per second, decord vs PyAV, on synthetic moving-shape videos.")
    parser.add_argument("--videos", type=int, default=4, help="synthetic clips to write (default 4)")
    parser.add_argument("--frames", type=int, default=16, help="frames per clip (default 16)")
    parser.add_argument("--px", type=int, default=64, help="frame side in pixels, even (default 64)")
    parser.add_argument("--samples", type=int, default=8, help="frames decoded per clip (default 8)")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the clips per row (default 3)")
    parser.add_argument("--backends", default="decord,pyav", help="comma-separated (default decord,pyav)")
    parser.add_argument("--perturbations", default=None,
                        help=f"comma-separated (default all: {', '.join(PERTURBATIONS)})")
    parser.add_argument("--threads", type=int, default=1, help="decoder threads, 0 = FFmpeg picks (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    parser.add_argument("--out", default=None, help="folder: also write video_bench.json there")
    args = parser.parse_args(argv)
    for flag in ("videos", "frames", "samples", "repeats"):
        if getattr(args, flag) < 1:
            raise MMAlignError(f"--{flag} must be at least 1")
    if args.px < 2 or args.px % 2:
        raise MMAlignError("--px must be an even number of pixels (yuv420p)")
    try:
        result = run_video_bench(videos=args.videos, frames=args.frames, px=args.px, samples=args.samples,
                                 repeats=args.repeats, backends=_names(args.backends) or (),
                                 perturbations=_names(args.perturbations), threads=args.threads,
                                 seed=args.seed)
    except ValueError as exc:
        raise MMAlignError(str(exc)) from exc
    if not result["config"]["backends"]:
        why = "; ".join(f"{b}: {m}" for b, m in result["failed_backends"].items()) or "not installed"
        raise MMAlignError(f"no video backend of {args.backends!r} could run ({why})")
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    if args.out:
        path = Path(args.out) / "video_bench.json"
        write_json_atomic(path, result)
        if not args.json:
            print(f"\nwrote {path}")
    return 0
