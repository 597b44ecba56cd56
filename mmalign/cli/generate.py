"""mmalign generate --model PATH [--model PATH ...] --data FILE [--root DIR] --out DIR [--n 4] [--temperature 1.0]
[--top-p 1.0] [--seed 0]: sampled candidate answers per prompt -> OUT/candidates.jsonl (resumable)."""

from __future__ import annotations

import argparse

from ..data.candidates import skipped_text
from ..pairs.candidates import CANDIDATES_FILE, generate_candidates
from .image_flag import add_max_image_pixels, apply_max_image_pixels
from .model_flags import add_trust_remote_code, apply_trust_remote_code


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mmalign generate", description=(
        "Sample N candidate answers per prompt from one or more models into OUT/candidates.jsonl. "
        "Rerun the same command to resume; the output is the same as an uninterrupted run's."))
    parser.add_argument("--model", action="append", required=True, metavar="PATH",
                        help="model folder or name (repeat for several models, as COIG-P)")
    parser.add_argument("--data", required=True, help="prompts: JSONL records with 'prompt' (+ images/videos), "
                                                      "preference records, or LLaVA JSON")
    parser.add_argument("--root", default=None, help="media root (default: the data file's folder)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--n", type=int, default=4, help="answers per prompt and model (default 4)")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature; 0 = greedy (default 1.0)")
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling (default 1.0)")
    parser.add_argument("--seed", type=int, default=0, 
                        help="base seed; each answer's seed comes from (seed, id, sample)")
    parser.add_argument("--max-new-tokens", type=int, default=64, help="answer length limit (default 64)")
    parser.add_argument("--batch-size", type=int, default=8, help="prompts per generate call when greedy (default 8)")
    parser.add_argument("--video-frames", type=int, default=0, help="frames sampled per video (needed for videos)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, ... (default: cuda when available)")
    parser.add_argument("--dtype", default=None, choices=("fp32", "bf16", "fp16"), help="model weights dtype")
    parser.add_argument("--on-bad-record", choices=("error", "skip"), default="error",
                        help="bad prompt lines: stop with file:line (default) or skip and count them")
    add_max_image_pixels(parser)
    add_trust_remote_code(parser)
    args = parser.parse_args(argv)
    apply_max_image_pixels(args)
    apply_trust_remote_code(args)
    summary = generate_candidates(args.data, args.model, args.out, root=args.root, n=args.n,
                                  temperature=args.temperature, top_p=args.top_p, seed=args.seed,
                                  max_new_tokens=args.max_new_tokens, batch_size=args.batch_size,
                                  video_frames=args.video_frames, device=args.device, dtype=args.dtype,
                                  on_bad_record=args.on_bad_record)
    if summary["skipped_lines"]:
        print(skipped_text(summary["skipped_lines"]))
    print(f"wrote {summary['candidates']} candidates for {summary['prompts']} prompts to {args.out}/{CANDIDATES_FILE}")
    return 0
