"""mmalign rubrics build --model PATH --data pairs.jsonl [--root DIR] --out DIR [--samples N] [--seed S]
[--judge-model PATH]: a contrastive rubric per preference record, kept when a rubric-conditioned judge agrees
with the label (OpenRubrics) -> OUT/rubrics.jsonl, OUT/rubrics_summary.json (resumable)."""

from __future__ import annotations

import argparse

from ..data.candidates import skipped_text
from ..rubrics.build import RUBRICS_FILE, SUMMARY_FILE, RubricSettings, build_rubrics
from ..rubrics.maker import REASONS
from .image_flag import add_max_image_pixels, apply_max_image_pixels
from .model_flags import add_trust_remote_code, apply_trust_remote_code

DEFAULTS = RubricSettings()
REASON_WORDS = {"accepted": "accepted", "disagreed": "verdict disagreed with the label",
                "unparsed": "rubric did not parse", "no_verdict": "judge reply without a verdict"}


def _build_parser(sub) -> None:
    p = sub.add_parser("build", help="write and rejection-sample a rubric per preference record", description=(
        "For each preference record a model writes a rubric (hard rules and principles) from the prompt with "
        "the chosen and rejected answers shown; a rubric-conditioned judge then compares the pair under it, "
        "and the rubric is accepted when the judge prefers the chosen answer. Up to --samples rubrics are "
        "tried per record. Rerun the same command to resume; the output is the same as an uninterrupted "
        "run's. See docs/data-quality.md, OpenRubrics."))
    p.add_argument("--model", required=True, metavar="PATH", help="the model that writes rubrics")
    p.add_argument("--data", required=True, help="preference records (JSONL: prompt, chosen, rejected, media)")
    p.add_argument("--root", default=None, help="media root (default: the data file's folder)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--judge-model", default=None, metavar="PATH",
                   help="the model that judges the pair under each rubric (default: --model, loaded once)")
    p.add_argument("--samples", type=int, default=DEFAULTS.samples,
                   help=f"rubrics tried per record until one is accepted (default {DEFAULTS.samples})")
    p.add_argument("--seed", type=int, default=DEFAULTS.seed,
                   help="base seed; each attempt's seed comes from (seed, id, sample)")
    p.add_argument("--temperature", type=float, default=DEFAULTS.temperature,
                   help=f"the writer's sampling temperature (default {DEFAULTS.temperature}); 0 = greedy")
    p.add_argument("--top-p", type=float, default=DEFAULTS.top_p, help=f"the writer's top-p (default {DEFAULTS.top_p})")
    p.add_argument("--max-new-tokens", type=int, default=DEFAULTS.max_new_tokens,
                   help=f"rubric length limit in tokens (default {DEFAULTS.max_new_tokens})")
    p.add_argument("--judge-orders", type=int, choices=(1, 2), default=DEFAULTS.judge_orders,
                   help="2: the judge sees the pair in both orders, verdicts averaged (default); 1: one order, "
                        "the chosen answer first or second by seed")
    p.add_argument("--judge-temperature", type=float, default=DEFAULTS.judge_temperature,
                   help="the judge's temperature (default 0: greedy)")
    p.add_argument("--judge-samples", type=int, default=DEFAULTS.judge_samples,
                   help="judge replies per order, averaged (needs --judge-temperature > 0 above 1)")
    p.add_argument("--judge-max-new-tokens", type=int, default=DEFAULTS.judge_max_new_tokens,
                   help=f"judge reply length limit (default {DEFAULTS.judge_max_new_tokens})")
    p.add_argument("--rubric-prompt", default="", metavar="FILE",
                   help="replaces mmalign/judge/prompts/rubric_write.txt ({prompt}, {chosen}, {rejected})")
    p.add_argument("--judge-prompt", default="", metavar="FILE", help=(
        "replaces mmalign/judge/prompts/rubric_pairwise.txt ({prompt}, {rubric}, {response_a}, {response_b})"))
    p.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size, help="questions per generate call")
    p.add_argument("--video-frames", type=int, default=0, help="frames sampled per video (needed for videos)")
    p.add_argument("--device", default="auto", help="cpu, cuda, ... (default: cuda when available)")
    p.add_argument("--dtype", default=None, choices=("fp32", "bf16", "fp16"), help="model weights dtype")
    p.add_argument("--on-bad-record", choices=("error", "skip"), default="error",
                   help="bad records: stop with file:line (default) or skip and count them")
    add_max_image_pixels(p)
    add_trust_remote_code(p)


def _report(summary: dict, out: str) -> None:
    if summary["skipped_lines"]:
        print(skipped_text(summary["skipped_lines"]))
    n, tried = summary["records"], summary["attempts"]["total"]
    print(f"accepted a rubric for {summary['accepted']} of {n} records ({summary['acceptance_rate']:.1%}); "
          f"{summary['attempts']['accepted']} of {tried} attempts accepted")
    for reason in REASONS:
        print(f"  {REASON_WORDS[reason]}: {summary['reasons'][reason]} records, {summary['attempts'][reason]} "
              f"attempts")
    print(f"wrote {out}/{RUBRICS_FILE} and {out}/{SUMMARY_FILE}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mmalign rubrics", description=(
        "OpenRubrics: contrastive rubrics for preference records. Score answers with them through "
        "mmalign score --judge rubric:model=PATH,rubrics=OUT/rubrics.jsonl."))
    sub = parser.add_subparsers(dest="command", required=True, metavar="build")
    _build_parser(sub)
    args = parser.parse_args(argv)
    apply_max_image_pixels(args)
    apply_trust_remote_code(args)
    settings = RubricSettings(
        samples=args.samples, seed=args.seed, temperature=args.temperature, top_p=args.top_p,
        max_new_tokens=args.max_new_tokens, judge_orders=args.judge_orders, judge_temperature=args.judge_temperature,
        judge_samples=args.judge_samples, judge_max_new_tokens=args.judge_max_new_tokens,
        batch_size=args.batch_size, video_frames=args.video_frames, rubric_prompt=args.rubric_prompt,
        judge_prompt=args.judge_prompt)
    summary = build_rubrics(args.data, args.model, args.out, judge_model=args.judge_model, root=args.root,
                            settings=settings, device=args.device, dtype=args.dtype,
                            on_bad_record=args.on_bad_record)
    _report(summary, args.out)
    return 0
