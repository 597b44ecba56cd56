"""mmalign report DIR... --out DIR: compare checkpoints' metrics.json in a table and a bar chart."""

from __future__ import annotations

import argparse

from ..eval.report import write_report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mmalign report", description=(
        "Compare checkpoints: each DIR holds a metrics.json (or sub-folders that do) written by mmalign eval."))
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="one results folder per checkpoint")
    parser.add_argument("--out", required=True, help="folder for report.json, report.md and report.png")
    args = parser.parse_args(argv)
    report = write_report(args.dirs, args.out)
    n = sum(len(b["checkpoints"]) for b in report["benchmarks"].values())
    print(f"wrote {args.out}/report.json, report.md, report.png ({len(report['benchmarks'])} benchmark(s), "
          f"{n} result(s))")
    return 0
