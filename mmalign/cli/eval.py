"""mmalign eval BENCH: answer a benchmark with a model, or score existing answers; write OUT/metrics.json.

    mmalign eval BENCH --model PATH --data FILE [--root DIR] --out DIR [--batch-size N] [--max-new-tokens N]
    mmalign eval BENCH --predictions FILE --data FILE [--root DIR] --out DIR
    mmalign eval SYNTH --make-data DIR [--seed S] [--count N]   (synth-pope, synth-multi, synth-video)

With `--model`, answers go to OUT/predictions.jsonl as they come (a rerun asks only the questions not
yet answered), then everything is scored exactly as with `--predictions`. `--make-data` writes a
synthetic suite (questions.jsonl + media) and, with `--model` or `--predictions`, evaluates it too.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from ..errors import MMAlignError
from ..eval import BENCHMARKS, format_metrics, get_benchmark, read_predictions, run_eval, score_predictions
from ..eval.registry import SYNTHETIC
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
    parser = argparse.ArgumentParser(prog="mmalign eval", description="Answer and score a hallucination benchmark.")
    parser.add_argument("bench", choices=sorted(BENCHMARKS), help="benchmark name")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", default=None, help="model folder or name: generate the answers first")
    source.add_argument("--predictions", default=None, help='answers, JSON lines {"id": ..., "answer": "..."}')
    parser.add_argument("--data", default=None, help="the benchmark's question/annotation file or folder")
    parser.add_argument("--root", default=None, help="media root (default: depends on the benchmark, see docs)")
    parser.add_argument("--out", default=None, help="output folder for predictions.jsonl and metrics.json")
    parser.add_argument("--on-bad-record", choices=("error", "skip"), default="error",
                        help="bad or missing prediction lines: stop (default) or leave them out and count them")
    parser.add_argument("--judge", default=None, metavar="MODULE:FUNC",
                        help="judge(prompt_text) -> str for mmhal and hallusionbench (scores say 'local judge')")
    parser.add_argument("--synonyms", default=None, help="chair: COCO synonym list (category, synonym, ...)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="benchmark option, e.g. match=first_sentence, mode=judge, "
                             "noun_extractor=pkg.mod:func (repeatable)")
    gen = parser.add_argument_group("generation (--model)")
    gen.add_argument("--batch-size", type=int, default=8, help="questions per generate call (default 8)")
    gen.add_argument("--max-new-tokens", type=int, default=32, help="answer length limit (default 32)")
    gen.add_argument("--video-frames", type=int, default=0,
                     help="video benchmarks: N uniformly sampled frames, given as the model's video input when "
                          "its processor has one (Qwen2-VL), else as N images (required for videos)")
    gen.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, ... (default: cuda when available)")
    gen.add_argument("--dtype", default=None, choices=("fp32", "bf16", "fp16"), help="model weights dtype")
    synth = parser.add_argument_group("synthetic suites (" + ", ".join(SYNTHETIC) + ")")
    synth.add_argument("--make-data", default=None, metavar="DIR", help="write the suite's questions and media here")
    synth.add_argument("--seed", type=int, default=0, help="suite seed (default 0)")
    synth.add_argument("--count", type=int, default=None, help="number of questions (default 2000)")
    synth.add_argument("--px", type=int, default=None, help="image/frame side in pixels (default: the suite's)")
    return parser


def make_data(args) -> None:
    from ..data.synth.suites import write_suite

    if args.bench not in SYNTHETIC:
        raise MMAlignError(f"--make-data works for the synthetic suites only ({', '.join(SYNTHETIC)})")
    try:
        path = write_suite(args.bench, args.make_data, seed=args.seed, count=args.count, px=args.px)
    except (ValueError, RuntimeError) as exc:
        raise MMAlignError(f"{args.bench}: {exc}") from None
    print(f"wrote {path}")
    if args.data is None:
        args.data = str(path)


def answer_with_model(args, bench, questions, opts) -> dict:
    import torch

    from ..eval.generation import check_media_support, model_answer_fn
    from ..models import load

    for flag, value in (("--batch-size", args.batch_size), ("--max-new-tokens", args.max_new_tokens)):
        if value < 1:
            raise MMAlignError(f"{flag} must be at least 1, got {value}")
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    loaded = load(args.model, dtype=args.dtype, device=device)
    check_media_support(questions, is_vision=loaded.adapter.is_vision, video_frames=args.video_frames)
    answer_fn = model_answer_fn(loaded.model, loaded.processor, adapter=loaded.adapter,
                                max_new_tokens=args.max_new_tokens, batch_size=args.batch_size,
                                video_frames=args.video_frames)
    from ..models.generate import takes_videos

    info = {"inputs": {"data": str(args.data), "model": str(args.model)},
            "generation": {"max_new_tokens": args.max_new_tokens, "batch_size": args.batch_size,
                           "video_frames": args.video_frames, "do_sample": False,
                           "video_input": "video" if takes_videos(loaded.processor) else "frames as images"}}
    return run_eval(bench, questions, answer_fn, args.out, args.batch_size, info=info, **opts)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    bench = get_benchmark(args.bench)
    if args.make_data:
        make_data(args)
        if not (args.model or args.predictions):
            return 0
    missing = [flag for flag, v in (("--data", args.data), ("--out", args.out)) if v is None]
    if not (args.model or args.predictions):
        missing.append("--model or --predictions")
    if missing:
        raise MMAlignError(f"mmalign eval {bench.name}: missing {', '.join(missing)}")
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
    out = Path(args.out)
    if args.model:
        metrics = answer_with_model(args, bench, questions, opts)
        print(format_metrics(metrics))
        print(f"wrote {out / 'predictions.jsonl'} and {out / 'metrics.json'}")
        return 0
    predictions, bad = read_predictions(args.predictions, [q.id for q in questions], args.on_bad_record)
    metrics = score_predictions(bench, questions, predictions, args.on_bad_record, **opts)
    metrics["bad_prediction_lines"] = dict(bad)
    metrics["inputs"] = {"data": str(args.data), "predictions": str(args.predictions)}
    write_json_atomic(out / "metrics.json", metrics)
    print(format_metrics(metrics))
    if bad or metrics["missing_answers"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(bad.items()))
        print(f"skipped {sum(bad.values())} bad prediction line(s) ({reasons or 'none'}); "
              f"{metrics['missing_answers']} question(s) without an answer left out")
    print(f"wrote {out / 'metrics.json'}")
    return 0
