"""`mmalign eval` for reward benchmarks (`Benchmark.kind == "reward"`): a judge, not a model's answer.

    mmalign eval REWARD_BENCH --judge SPEC --data FILE [--root DIR] --out DIR [--video-frames N]
    mmalign eval REWARD_BENCH --predictions judgments.jsonl --data FILE --out DIR [--on-bad-record skip]
"""

from __future__ import annotations

from pathlib import Path

from ..errors import MMAlignError
from ..eval import format_metrics, score_predictions
from ..eval.reward_judgments import read_judgments
from ..io import write_json_atomic


def reward_main(args, bench) -> int:
    if args.model:
        raise MMAlignError(f"{bench.name} is a reward benchmark: a judge decides each item. Pass --judge SPEC "
                           f"(e.g. pairwise:model={args.model}, pointwise:model=..., oracle) or --predictions "
                           "judgments.jsonl")
    missing = [flag for flag, v in (("--data", args.data), ("--out", args.out)) if v is None]
    if not (args.judge or args.predictions):
        missing.append("--judge SPEC or --predictions FILE")
    if missing:
        raise MMAlignError(f"mmalign eval {bench.name}: missing {', '.join(missing)}")
    out = Path(args.out)
    if args.judge:
        from ..eval.with_judge import evaluate_judge

        metrics = evaluate_judge(bench.name, args.data, out, args.judge, root=args.root, device=args.device,
                                 dtype=args.dtype, video_frames=args.video_frames)
        print(format_metrics(metrics))
        print(f"wrote {out / 'judgments.jsonl'} and {out / 'metrics.json'}")
        return 0
    if len(args.predictions) != 1:
        raise MMAlignError("reward benchmarks read one judgments file (--predictions FILE)")
    questions = bench.read_questions(args.data, args.root)
    judgments, bad = read_judgments(args.predictions[0], {q.id for q in questions}, args.on_bad_record)
    metrics = score_predictions(bench, questions, judgments, args.on_bad_record)
    metrics["bad_judgment_lines"] = sum(bad.values())
    metrics["inputs"] = {"data": str(args.data), "predictions": args.predictions[0]}
    write_json_atomic(out / "metrics.json", metrics)
    print(format_metrics(metrics))
    if bad or metrics["missing_answers"]:
        print(f"skipped {sum(bad.values())} bad judgment line(s); {metrics['missing_answers']} item(s) without "
              "a judgment left out")
    print(f"wrote {out / 'metrics.json'}")
    return 0
