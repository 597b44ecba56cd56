"""mmalign eval BENCH: answer a benchmark with a model, or score existing answers; write OUT/metrics.json.

    mmalign eval BENCH --model PATH --data FILE [--root DIR] --out DIR [--batch-size N] [--max-new-tokens N]
    mmalign eval BENCH --predictions FILE [FILE ...] --data FILE [--root DIR] --out DIR [--predictions-format NAME]
    mmalign eval SYNTH --make-data DIR [--seed S] [--count N]   (synth-pope, synth-multi, synth-video, synth-reward...)
    mmalign eval REWARD_BENCH --judge SPEC|--predictions judgments.jsonl --data FILE --out DIR   (cli/eval_reward.py)

With `--model`, answers go to OUT/predictions.jsonl as they come (a rerun asks only the questions not
yet answered), then everything is scored exactly as with `--predictions`, which reads mmalign's answer
lines, LLaVA's and each official scorer's answer files (recognised by their fields; see
docs/evaluation.md). `--make-data` writes a
synthetic suite (questions.jsonl + media) and, with `--model` or `--predictions`, evaluates it too.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from ..errors import MMAlignError
from ..eval import BENCHMARKS, format_metrics, get_benchmark, score_predictions
from ..eval.answer_files import read_answers
from ..eval.answer_formats import FORMAT_NAMES
from ..eval.registry import SYNTHETIC
from ..io import write_json_atomic
from .image_flag import add_max_image_pixels, apply_max_image_pixels
from .model_flags import add_trust_remote_code, apply_trust_remote_code

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
    parser = argparse.ArgumentParser(prog="mmalign eval", description="Answer and score a hallucination benchmark, "
                                                                       "or judge a reward benchmark.")
    parser.add_argument("bench", choices=sorted(BENCHMARKS), help="benchmark name")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", default=None, help="model folder or name: generate the answers first")
    source.add_argument("--predictions", nargs="+", default=None, metavar="FILE",
                        help="answer files: mmalign's {id, answer} lines, LLaVA's {question_id, text} lines, or "
                             "the benchmark's official scorer input (recognised by content)")
    parser.add_argument("--predictions-format", default=None, choices=FORMAT_NAMES,
                        help="read --predictions as this format instead of recognising it")
    parser.add_argument("--llava-questions", default=None, metavar="FILE",
                        help="pope: LLaVA's llava_pope_test.jsonl, to match LLaVA answer lines as its eval_pope.py")
    parser.add_argument("--data", default=None, help="the benchmark's question/annotation file or folder")
    parser.add_argument("--root", default=None, help="media root (default: depends on the benchmark, see docs)")
    parser.add_argument("--out", default=None, help="output folder for predictions.jsonl and metrics.json")
    parser.add_argument("--on-bad-record", choices=("error", "skip"), default="error",
                        help="bad or missing prediction lines: stop (default) or leave them out and count them")
    parser.add_argument("--judge", default=None, metavar="MODULE:FUNC|SPEC",
                        help="mmhal, hallusionbench: judge(prompt_text) -> str as MODULE:FUNC (scores say 'local "
                             "judge'); reward benchmarks: a judge SPEC as mmalign score takes (oracle, "
                             "pointwise:model=PATH, pairwise:model=PATH)")
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
    add_max_image_pixels(gen)
    add_trust_remote_code(gen)
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


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    apply_max_image_pixels(args)
    apply_trust_remote_code(args)
    bench = get_benchmark(args.bench)
    if args.make_data:
        make_data(args)
        if not (args.model or args.predictions or (args.judge and bench.kind == "reward")):
            return 0
    if bench.kind == "reward":
        from .eval_reward import reward_main

        return reward_main(args, bench)
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

    out = Path(args.out)
    if args.model:
        from ..eval.with_model import evaluate_model

        metrics = evaluate_model(bench.name, args.data, out, args.model, root=args.root, batch_size=args.batch_size,
                                 max_new_tokens=args.max_new_tokens, video_frames=args.video_frames,
                                 device=args.device, dtype=args.dtype, options=opts)
        print(format_metrics(metrics))
        print(f"wrote {out / 'predictions.jsonl'} and {out / 'metrics.json'}")
        return 0
    questions = bench.read_questions(args.data, args.root)
    answers = read_answers(args.predictions, questions, benchmark=bench.name, on_bad_record=args.on_bad_record,
                           answer_format=args.predictions_format, llava_questions=args.llava_questions)
    bad = answers.bad
    metrics = score_predictions(bench, questions, answers.predictions, args.on_bad_record, **opts)
    metrics["bad_prediction_lines"] = dict(bad)
    metrics["answer_formats"] = answers.formats
    if answers.ignored:
        metrics["ignored_answer_lines"] = answers.ignored
    predictions = args.predictions[0] if len(args.predictions) == 1 else list(args.predictions)
    metrics["inputs"] = {"data": str(args.data), "predictions": predictions}
    write_json_atomic(out / "metrics.json", metrics)
    print(format_metrics(metrics))
    if bad or metrics["missing_answers"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(bad.items()))
        print(f"skipped {sum(bad.values())} bad prediction line(s) ({reasons or 'none'}); "
              f"{metrics['missing_answers']} question(s) without an answer left out")
    print(f"wrote {out / 'metrics.json'}")
    return 0
