"""The reliability sweep: the fuzzers with more examples, and every resumable command killed with kill -9 at
random moments and run again, compared with an uninterrupted run. Writes the figures of docs/reliability.md.

    .venv/bin/python scripts/reliability_sweep.py --out runs/reliability [--quick] [--no-docs]

Full: 1,000 examples per fuzz test and 8 tries per command (2 for 2-process training) on twice the data,
about 17 minutes on 2 CPU cores (estimated from --quick). --quick: 300 examples and 4 tries per command (1 for
2-process training): 6.9 minutes measured.
OUT/sweep.json holds every try (kill times, lines written at each kill, differences), OUT/fuzz.log the
fuzzers' statistics, OUT/runs/ the runs themselves. Exit 1 when a fuzz case failed or a resume differed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # the machine is shared (set before torch is imported)
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from sweep import commands, figures, fuzz_stats, kills

FULL = {"examples": 1000, "tries": 8, "tries_2proc": 2}
QUICK = {"examples": 300, "tries": 4, "tries_2proc": 1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="working folder (data, runs, sweep.json)")
    parser.add_argument("--quick", action="store_true", help="fewer examples and tries (about 8 minutes)")
    parser.add_argument("--examples", type=int, default=None, help="fuzz examples per test (0: no fuzzing)")
    parser.add_argument("--tries", type=int, default=None, help="kill tries per command (0: no kills)")
    parser.add_argument("--commands", default=None, help="comma list of commands to kill (default: all)")
    parser.add_argument("--max-kills", type=int, default=2, help="kills per try, 1 to this many (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill times")
    parser.add_argument("--timeout", type=float, default=300, help="seconds one run may take")
    parser.add_argument("--docs", default=str(REPO / "docs" / "reliability.md"), help="page to write the figures into")
    parser.add_argument("--no-docs", action="store_true", help="write OUT/figures.md only")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    examples = plan["examples"] if args.examples is None else args.examples
    tries = plan["tries"] if args.tries is None else args.tries
    out = Path(args.out).absolute()
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    shown = list(sys.argv[1:] if argv is None else argv)
    if "--out" in shown:  # the folder is the measurer's own
        shown[shown.index("--out") + 1] = "OUT"
    summary: dict = {"command": "python scripts/reliability_sweep.py " + shlex.join(shown),
                     "date": datetime.date.today().isoformat(),
                     "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}, one thread per process",
                     "max_kills": args.max_kills, "fuzz_examples": examples}
    failed = False
    if examples:
        print(f"fuzzing: {examples} examples per test ...", flush=True)
        stats, code = fuzz_stats.run(examples, REPO, out / "fuzz.log")
        summary["fuzz"] = {kind: asdict(s) for kind, s in stats.items()}
        summary["fuzz_exit"] = code
        failed |= code != 0
        print(figures.fuzz_table(summary["fuzz"]), flush=True)
    if tries:
        cmds = commands.prepare(out / "data", quick=args.quick)
        if args.commands:
            wanted = [c.strip() for c in args.commands.split(",")]
            unknown = sorted(set(wanted) - set(cmds))
            if unknown:
                parser.error(f"unknown commands {unknown}; known: {', '.join(cmds)}")
            cmds = {k: v for k, v in cmds.items() if k in wanted}
        counts = {name: (plan["tries_2proc"] if args.tries is None else tries) if c.nproc > 1 or c.slow else tries
                  for name, c in cmds.items()}
        summary["tries"] = kills.sweep(cmds, counts, out, args.seed, args.max_kills, args.timeout)
        failed |= not all(t["identical"] for t in summary["tries"])
        print(figures.kill_table(summary["tries"]), flush=True)
    summary["minutes"] = (time.monotonic() - started) / 60
    (out / "sweep.json").write_text(json.dumps(summary, indent=2) + "\n")
    text = figures.render(summary)
    (out / "figures.md").write_text(text)
    if not args.no_docs:
        figures.splice(Path(args.docs), text)
        print(f"wrote the figures into {args.docs}")
    print(f"done in {summary['minutes']:.1f} minutes; {out / 'sweep.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
