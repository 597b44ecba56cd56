"""mmalign eval BENCH --predictions FILE --data FILE [--root DIR] --out DIR: score answers to a benchmark.

Writes OUT/metrics.json and prints a small table. The generation path (`--model PATH`, answering the
questions with a model first) plugs in through `mmalign.eval.run_eval(bench, questions, answer_fn,
out_dir)`, which writes OUT/predictions.jsonl resumably and then scores exactly like this command.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from ..errors import MMAlignError
from ..eval import BENCHMARKS, format_metrics, get_benchmark, read_predictions, score_predictions
from ..io import write_json_atomic

# Options whose value names a Python callable as "module:function" rather than a plain string.
CALLABLE_OPTIONS = {"judge", "noun_extractor", "similarity", "singularize"}


def load_callable(spec: str, what: str):
    """Import "package.module:function"; a bad spec is a user error, not a traceback."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise MMAlignError(f"{what} must look like 'package.module:function', got {spec!r}")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise MMAlignError(f"cannot load {what} {spec!r}: {exc}") from None
    if not callable(obj):
        raise MMAlignError(f"{what} {spec!r} is not callable")
    return obj


def parse_options(pairs: list[str]) -> dict:
    opts = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise MMAlignError(f"--option takes KEY=VALUE, got {pair!r}")
        opts[key] = load_callable(value, key) if key in CALLABLE_OPTIONS else value
    return opts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mmalign eval", description="Score a model's answers to a benchmark.")
    parser.add_argument("bench", choices=sorted(BENCHMARKS), help="benchmark name")
    parser.add_argument("--predictions", required=True, help='answers, JSON lines {"id": ..., "answer": "..."}')
    parser.add_argument("--data", required=True, help="the benchmark's official question/annotation file or folder")
    parser.add_argument("--root", default=None, help="media root (default: depends on the benchmark, see docs)")
    parser.add_argument("--out", required=True, help="output folder for metrics.json")
    parser.add_argument("--on-bad-record", choices=("error", "skip"), default="error",
                        help="bad or missing prediction lines: stop (default) or leave them out and count them")
    parser.add_argument("--judge", default=None, metavar="MODULE:FUNC",
                        help="judge(prompt_text) -> str for mmhal and hallusionbench (scores say 'local judge')")
    parser.add_argument("--synonyms", default=None, help="chair: COCO synonym list (category, synonym, ...)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="benchmark option, e.g. match=first_sentence, mode=judge, "
                             "noun_extractor=pkg.mod:func (repeatable)")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    bench = get_benchmark(args.bench)
    opts = parse_options(args.option)
    if args.judge:
        opts["judge"] = load_callable(args.judge, "--judge")
        opts.setdefault("judge_name", f"local judge ({args.judge})")
        if bench.name == "hallusionbench":
            opts.setdefault("mode", "judge")
    if args.synonyms:
        opts["synonyms"] = args.synonyms
    if "data_path" in bench.options:
        opts.setdefault("data_path", args.data)

    questions = bench.read_questions(args.data, args.root)
    predictions, bad = read_predictions(args.predictions, [q.id for q in questions], args.on_bad_record)
    metrics = score_predictions(bench, questions, predictions, args.on_bad_record, **opts)
    metrics["bad_prediction_lines"] = dict(bad)
    metrics["inputs"] = {"data": str(args.data), "predictions": str(args.predictions)}
    out = Path(args.out)
    write_json_atomic(out / "metrics.json", metrics)
    print(format_metrics(metrics))
    if bad or metrics["missing_answers"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(bad.items()))
        print(f"skipped {sum(bad.values())} bad prediction line(s) ({reasons or 'none'}); "
              f"{metrics['missing_answers']} question(s) without an answer left out")
    print(f"wrote {out / 'metrics.json'}")
    return 0
