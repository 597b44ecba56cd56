"""mmalign pairs --data scored.jsonl --out DIR --rule best-worst|gap:T|ranked|win-prob [--judge NAME]:
preference records from scored candidates -> OUT/pairs.jsonl."""

from __future__ import annotations

import argparse

from ..data.candidates import skipped_text
from ..pairs.from_scores import PAIRS_FILE, RULES, make_pairs


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mmalign pairs", description=(
        "Turn scored candidates into preference records that mmalign train reads."))
    parser.add_argument("--data", required=True, help="scored candidate file (mmalign score's scored.jsonl)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--rule", required=True, help=f"one of {', '.join(RULES)} (gap:2 is COIG-P's)")
    parser.add_argument("--judge", default=None, metavar="NAME",
                        help="use this judge's scores (default: the mean over the judges that scored a candidate)")
    parser.add_argument("--on-bad-record", choices=("error", "skip"), default="error",
                        help="bad candidate lines: stop with file:line (default) or skip and count them")
    args = parser.parse_args(argv)
    summary = make_pairs(args.data, args.out, args.rule, judge=args.judge, on_bad_record=args.on_bad_record)
    if summary["skipped_lines"]:
        print(skipped_text(summary["skipped_lines"]))
    dropped = summary["prompts_without_pairs"]
    why = f" ({', '.join(f'{k}: {v}' for k, v in sorted(dropped.items()))})" if dropped else ""
    print(f"{summary['pairs']} pairs from {summary['records']} prompts; {sum(dropped.values())} prompts gave none{why}")
    per = ", ".join(f"{n} pair{'s' if n != 1 else ''}: {k}" for n, k in summary["pairs_per_prompt"].items())
    print(f"prompts by pairs made: {per}")
    agreement = summary["judge_agreement"]
    if agreement:
        each = ", ".join(f"{k} {v:.1%}" for k, v in agreement["pairs"].items())
        print(f"judges order two answers alike {agreement['overall']:.1%} of {agreement['compared']} times ({each})")
    print(f"wrote {args.out}/{PAIRS_FILE}")
    return 0
