"""mmalign data validate --data FILE [--root DIR] [--model PATH --max-length N]
mmalign data synth pairs|llava|text|video --out DIR
mmalign data probe --model PATH --data pairs.jsonl --out DIR        (cli/data_diagnose.py)
mmalign data did --model PATH --ref PATH --data FILE --out DIR       (cli/data_diagnose.py)

validate reads every record, checks its fields and types, and opens (decodes) every image and video it
names; with --model it also checks that each record fits in --max-length tokens. probe and did are the
data-quality diagnostics of docs/data-quality.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data.media_check import decode_check
from ..data.reader import read_records
from ..io import check_data_file
from .data_diagnose import add_did_parser, add_probe_parser, did, probe
from .image_flag import add_max_image_pixels, apply_max_image_pixels
from .model_flags import add_trust_remote_code, apply_trust_remote_code


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mmalign data", description="Work with preference data.")
    sub = parser.add_subparsers(dest="action", required=True)
    val = sub.add_parser("validate", help="report every problem in a preference JSONL file (fields, types, "
                                             "media that cannot be decoded)")
    val.add_argument("--data", required=True, help="preference records (JSONL)")
    val.add_argument("--root", default=None, help="media root (default: the data file's folder)")
    val.add_argument("--model", default=None, help="model path: also check token lengths with its processor (media are "
                                                           "decoded with or without it)")
    val.add_argument("--max-length", type=int, default=2048, help="with --model: longest prompt + answer")
    add_max_image_pixels(val)
    add_trust_remote_code(val)
    syn = sub.add_parser("synth", help="write synthetic data with known truth")
    syn.add_argument("kind", choices=("pairs", "llava", "text", "video"),
                     help="pairs: image preference pairs; llava: LLaVA-format instructions; text: text pairs; "
                          "video: moving-shape videos with QA pairs")
    syn.add_argument("--out", required=True, help="output folder (images under it, paths relative to it)")
    syn.add_argument("--seed", type=int, default=0)
    syn.add_argument("--count", type=int, default=1000)
    syn.add_argument("--kinds", default=None,
                     help="llava only: comma list of question kinds to draw from (colour, shape, exists, object; "
                          "default all)")
    add_probe_parser(sub)
    add_did_parser(sub)
    args = parser.parse_args(argv)
    if args.action == "synth":
        return _synth(args)
    if args.action == "probe":
        return probe(args)
    if args.action == "did":
        return did(args)

    check_data_file(args.data)  # not found, a folder, empty: answered before a model loads
    apply_max_image_pixels(args)
    apply_trust_remote_code(args)
    root = Path(args.root) if args.root else Path(args.data).parent
    lengths = None
    if args.model:
        from ..data.collate import PreferenceCollator
        from ..models import load

        loaded = load(args.model)
        lengths = PreferenceCollator(loaded.processor, loaded.adapter, root, args.max_length).check_length
    # Every image and video is opened (decoded); --model only adds the token-length check.
    records, bad = read_records(args.data, root, "error", check=decode_check(root, then=lengths), collect_all=True)
    for message in bad.messages:
        print(message)
    if bad.total:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(bad.counts.items()))
        print(f"{args.data}: {bad.total} bad record(s) ({counts}); {len(records)} good")
        return 1
    print(f"{args.data}: {len(records)} records, all valid")
    return 0


def _synth(args) -> int:
    from ..data import synth
    from ..data.synth.questions import ALL_KINDS

    writers = {"pairs": synth.write_preference_pairs, "llava": synth.write_llava_instructions,
               "text": synth.write_text_pairs, "video": synth.write_video_dataset}
    extra = {}
    if args.kinds is not None:
        kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
        unknown = sorted(set(kinds) - set(ALL_KINDS))
        if args.kind != "llava" or not kinds or unknown:
            problem = (f"--kinds applies to 'llava' only, not {args.kind!r}" if args.kind != "llava" else
                       f"unknown question kind(s) {', '.join(unknown)}" if unknown else "--kinds is empty")
            print(f"mmalign data synth: {problem}; valid kinds: {', '.join(ALL_KINDS)}")
            return 1
        extra["kinds"] = kinds
    path = writers[args.kind](args.out, seed=args.seed, count=args.count, **extra)
    print(f"wrote {path}")
    return 0
