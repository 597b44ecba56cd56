"""mmalign score --judge SPEC [--judge SPEC ...] --data candidates.jsonl [--root DIR] --out DIR:
scores per candidate and judge -> OUT/scored.jsonl (resumable)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data.candidates import skipped_text
from ..judge import JUDGE_KINDS, JudgeContext, score_candidates
from ..judge.score_file import SCORED_FILE
from .image_flag import add_max_image_pixels, apply_max_image_pixels
from .model_flags import add_trust_remote_code, apply_trust_remote_code


def main(argv: list[str]) -> int:
    kinds = "; ".join(f"{k}: {v.help}" for k, v in sorted(JUDGE_KINDS.items()))
    parser = argparse.ArgumentParser(prog="mmalign score", description=(
        "Score every candidate with one or more judges; scores are kept per judge name. Rerun the same "
        "command to resume."))
    parser.add_argument("--judge", action="append", required=True, metavar="SPEC",
                        help=f"KIND[:key=value,...], e.g. oracle:noise=1, pointwise:model=PATH, pairwise:model=PATH "
                             f"(repeatable). Kinds: {kinds}")
    parser.add_argument("--data", required=True, help="candidate file (mmalign generate's candidates.jsonl)")
    parser.add_argument("--root", default=None, help="media root (default: the data file's folder)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--video-frames", type=int, default=0, help="frames per video shown to model judges")
    parser.add_argument("--device", default="auto", help="cpu, cuda, ... (default: cuda when available)")
    parser.add_argument("--dtype", default=None, choices=("fp32", "bf16", "fp16"), help="judge model dtype")
    parser.add_argument("--on-bad-record", choices=("error", "skip"), default="error",
                        help="bad candidate lines: stop with file:line (default) or skip and count them")
    add_max_image_pixels(parser)
    add_trust_remote_code(parser)
    args = parser.parse_args(argv)
    apply_max_image_pixels(args)
    apply_trust_remote_code(args)
    root = Path(args.root) if args.root else Path(args.data).parent
    context = JudgeContext(root=root, device=args.device, dtype=args.dtype, video_frames=args.video_frames)
    summary = score_candidates(args.data, args.judge, args.out, context=context, on_bad_record=args.on_bad_record)
    if summary["skipped_lines"]:
        print(skipped_text(summary["skipped_lines"]))
    for name, counts in summary["judges"].items():
        extra = f", {counts['no_score']} without a score (reply named none)" if counts["no_score"] else ""
        print(f"{name}: scored {counts['scored']} of {summary['candidates']} candidates{extra}")
    print(f"wrote {args.out}/{SCORED_FILE}")
    return 0
