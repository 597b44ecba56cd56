"""Evaluate a judge on a reward benchmark in one call: what `mmalign eval BENCH --judge SPEC` runs.

    metrics = evaluate_judge("synth-reward", "suite/", "runs/judge-eval", "pairwise:model=runs/sft/final")

Judgments go to OUT/judgments.jsonl as they come (a rerun judges only the items not yet judged), then they
are scored and OUT/metrics.json is written.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import MMAlignError
from ..io import remove_stale_temp_files, write_json_atomic
from .registry import get_benchmark
from .reward_judgments import judge_questions
from .runner import score_predictions

JUDGMENTS_FILE = "judgments.jsonl"


def evaluate_judge(bench: str, data: str | Path, out: str | Path, judge: str, *, root: str | Path | None = None,
                   device: str = "auto", dtype: str | None = None, video_frames: int = 0,
                   progress: bool = True) -> dict:
    from ..judge import JudgeContext, build_judge, parse_judge_spec

    benchmark = get_benchmark(bench)
    if benchmark.kind != "reward":
        raise MMAlignError(f"{bench} is not a reward benchmark: a model answers it (--model PATH)")
    spec = parse_judge_spec(judge)
    questions = benchmark.read_questions(str(data), None if root is None else str(root))
    # Question media are already joined with the benchmark's root, so the judge resolves them under "/".
    built = build_judge(spec, JudgeContext(root=Path("/"), device=device, dtype=dtype, video_frames=video_frames))
    out = Path(out)
    remove_stale_temp_files(out)  # metrics a killed run was writing
    judgments = judge_questions(questions, built, out / JUDGMENTS_FILE, progress=progress)
    metrics = score_predictions(benchmark, questions, judgments)
    metrics["inputs"] = {"data": str(data), "judge": spec.text, "judge_name": spec.name}
    write_json_atomic(out / "metrics.json", metrics)
    return metrics
