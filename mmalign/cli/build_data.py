"""mmalign build-data mia --data llava.json --root DIR --model PATH --out DIR [options]

Subcommands: ``mia`` (multi-image augmentation + attention-aware selection). A ``video`` subcommand
plugs in as another entry of SUBCOMMANDS.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import MMAlignError
from .image_flag import add_max_image_pixels, apply_max_image_pixels
from .model_flags import add_trust_remote_code, apply_trust_remote_code


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _add_mia(sub) -> None:
    p = sub.add_parser("mia", help="MIA-DPO pairs from LLaVA-format instruction data",
                       description="Build MIA-DPO preference pairs (see docs/build-data.md).")
    p.add_argument("--data", required=True, help="LLaVA-format instruction data (JSON list or JSONL)")
    p.add_argument("--root", default=None, help="image root (default: the data file's folder)")
    p.add_argument("--model", required=True, help="model path (generates and is probed)")
    p.add_argument("--out", required=True, help="output folder: pairs.jsonl, images/, summary.json")
    p.add_argument("--formats", default="sequence,collage,inset", help="comma list of sequence, collage, inset")
    p.add_argument("--proportions", type=_floats, default=None,
                   help="weights aligned with --formats (default: the paper's 0.522,0.322,0.156)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="use the first N usable rows")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-new-tokens", type=int, default=512)
    p.add_argument("--layer", type=int, default=None, help="decoder layer to probe (default: the middle one)")
    p.add_argument("--min-ppl", type=float, default=1.1, help="keep rejections with perplexity above this; "
                                                                 "negative turns the filter off")
    p.add_argument("--max-length-ratio", type=float, default=None, help="drop pairs whose word-length ratio exceeds this")
    p.add_argument("--min-edit-distance", type=float, default=None,
                   help="drop pairs whose normalised edit distance is below this")
    p.add_argument("--selector", choices=("attention", "random"), default="attention",
                   help="attention: MIA-DPO's attention-aware selection; random: keep wrong answers at random "
                        "(the ablation baseline)")
    p.add_argument("--no-corrupt", action="store_true", help="generate from the clean images")
    p.add_argument("--open-only", action="store_true",
                   help="skip rows whose answer is a bare yes/no (counted as dropped: yes_no_answer)")
    p.add_argument("--replay", type=int, default=0, metavar="N",
                   help="also write N single-image source rows, chosen = rejected, to OUT/replay.jsonl "
                        "(a replay anchor for DPO + NLL; train with extra_data)")
    p.add_argument("--cell", type=int, default=448, help="grid collage cell size (px)")
    p.add_argument("--margin", type=int, default=40, help="grid collage label strip (px)")
    p.add_argument("--dtype", default=None, help="model dtype (fp32, bf16, fp16)")
    p.add_argument("--device", default=None, help="model device (cpu, cuda)")
    p.add_argument("--no-progress", action="store_true")
    add_max_image_pixels(p)
    add_trust_remote_code(p)
    p.set_defaults(run=_run_mia)


def _run_mia(args) -> int:
    from ..data.llava_source import check_llava_file
    from ..models import load
    from ..pairs import MiaConfig, build_mia, parse_formats, summary_text
    from ..select import build_selector

    try:
        formats = parse_formats(args.formats)
    except ValueError as exc:
        raise MMAlignError(str(exc)) from None
    if args.proportions is not None and len(args.proportions) != len(formats):
        raise MMAlignError(f"--proportions has {len(args.proportions)} values for {len(formats)} formats")
    if args.batch_size < 1 or (args.limit is not None and args.limit < 0) or args.replay < 0:
        raise MMAlignError("--batch-size must be >= 1, and --limit and --replay >= 0")
    config = MiaConfig(formats=formats, proportions=args.proportions, seed=args.seed, limit=args.limit,
                       batch_size=args.batch_size, max_new_tokens=args.max_new_tokens, layer=args.layer,
                       corrupt=not args.no_corrupt, cell=args.cell, margin=args.margin,
                       progress=not args.no_progress, open_only=args.open_only, replay=args.replay,
                       selector=build_selector(args.selector, seed=args.seed, min_ppl=args.min_ppl,
                                               max_length_ratio=args.max_length_ratio,
                                               min_edit_distance=args.min_edit_distance))
    check_llava_file(args.data)  # a missing, folder or empty file is answered before the model loads
    root = Path(args.root) if args.root else Path(args.data).parent
    loaded = load(args.model, dtype=args.dtype, device=args.device)
    try:
        summary = build_mia(args.data, root, loaded, args.out, config)
    except ValueError as exc:
        raise MMAlignError(str(exc)) from None
    print(summary_text(summary, args.out))
    return 0


def _add_video(sub) -> None:
    # Defaults are written into each help text (ArgumentDefaultsHelpFormatter doubled them: "(default: ...)
    # (default: )"), as for mia.
    p = sub.add_parser("video", help="offline VDPO records: rejected_videos = perturbed clips (MP4) under OUT",
                       description="Offline VDPO records: each record's videos re-encoded and one perturbed copy "
                                   "as rejected_videos (see docs/video.md).")
    p.add_argument("--data", required=True, help="records with 'videos' (JSONL)")
    p.add_argument("--root", default="", help="media root (default: the data file's folder)")
    p.add_argument("--out", required=True, help="output folder (video_pairs.jsonl and vid/)")
    p.add_argument("--perturbations", default="reverse,shuffle,segment_shuffle,flip,random_resized_crop",
                   help="comma-separated names from mmalign.augment.video, one drawn per record (default: "
                        "reverse,shuffle,segment_shuffle,flip,random_resized_crop)")
    p.add_argument("--frames", type=int, default=8, help="frames decoded per video, uniform (default: 8)")
    p.add_argument("--fps", type=int, default=8, help="frame rate of the written clips (default: 8)")
    p.add_argument("--seed", type=int, default=0, help="seed for the perturbation drawn per record (default: 0)")
    p.add_argument("--limit", type=int, default=0, help="stop after this many records (default: 0 = all)")
    p.set_defaults(run=_run_video)


def _run_video(args) -> int:
    from ..pairs.video import build_video_pairs

    root = Path(args.root) if args.root else Path(args.data).parent
    try:
        path, counts = build_video_pairs(args.data, root, args.out, num_frames=args.frames, fps=args.fps,
                                         perturbations=tuple(n for n in args.perturbations.split(",") if n),
                                         seed=args.seed, limit=args.limit)
    except ValueError as exc:
        raise MMAlignError(str(exc)) from None
    print(f"wrote {path}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


SUBCOMMANDS = {"mia": _add_mia, "video": _add_video}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mmalign build-data", description="Build preference data.")
    sub = parser.add_subparsers(dest="kind", required=True)
    for add in SUBCOMMANDS.values():
        add(sub)
    args = parser.parse_args(argv)
    apply_max_image_pixels(args)
    apply_trust_remote_code(args)
    return int(args.run(args) or 0)
