"""Scoring answers and the boundary where generation plugs in (`run_eval` with an `answer_fn`)."""

from __future__ import annotations

from pathlib import Path

from ..errors import MMAlignError
from ..io import remove_stale_temp_files, write_json_atomic
from .base import Benchmark, Question, answers_for
from .predictions import AnswerFn, OnBadRecord, answer_questions
from .registry import get_benchmark


def score_predictions(
    benchmark: Benchmark | str,
    questions: list[Question],
    predictions: dict[str, str],
    on_bad_record: OnBadRecord = "error",
    **opts,
) -> dict:
    """The benchmark's metrics dict for these answers.

    A question without an answer is an error, or with on_bad_record="skip" is left out and counted
    in "missing_answers" (paired benchmarks then also drop the other half of its pair).
    """
    bench = get_benchmark(benchmark) if isinstance(benchmark, str) else benchmark
    unknown = sorted(set(opts) - bench.options)
    if unknown:
        valid = ", ".join(sorted(bench.options)) or "none"
        raise MMAlignError(f"{bench.name}: unknown option(s) {', '.join(unknown)}; valid options: {valid}")
    answered = [q for q in questions if q.id in predictions]
    if len(answered) < len(questions) and on_bad_record == "error":
        answers_for(questions, predictions)  # raises with the count and the first missing id
    if not answered:
        raise MMAlignError(f"{bench.name}: no question has an answer, nothing to score")
    metrics = bench.score(answered, predictions, **opts)
    metrics["missing_answers"] = len(questions) - len(answered)
    return metrics


def run_eval(
    benchmark: Benchmark | str,
    questions: list[Question],
    answer_fn: AnswerFn,
    out_dir: str | Path,
    batch_size: int = 8,
    info: dict | None = None,
    progress: bool = True,
    **opts,
) -> dict:
    """Answer every question (resumably, into OUT/predictions.jsonl), score, write OUT/metrics.json.

    `answer_fn(batch of questions) -> answers` is where a model comes in; the generation path
    (`mmalign eval BENCH --model PATH`) wraps `mmalign.models.generate` as such a function
    (`mmalign.eval.generation.model_answer_fn`). `info` (e.g. the inputs and generation settings) is
    added to metrics.json as it is. `progress`: a bar over the questions on a terminal and a closing line
    with the time (`answer_questions`).
    """
    out_dir = Path(out_dir)
    remove_stale_temp_files(out_dir)  # metrics a killed run was writing
    name = benchmark if isinstance(benchmark, str) else benchmark.name
    predictions = answer_questions(questions, answer_fn, out_dir / "predictions.jsonl", batch_size,
                                   progress=progress, desc=f"answer {name}")
    metrics = score_predictions(benchmark, questions, predictions, **opts)
    metrics.update(info or {})
    write_json_atomic(out_dir / "metrics.json", metrics)
    return metrics


def format_metrics(metrics: dict) -> str:
    """A small plain-text table: one row for overall and one per subset, numeric columns only."""
    rows = [("overall", metrics.get("overall", {}))] + list(metrics.get("subsets", {}).items())
    columns: list[str] = []
    for _, values in rows:
        columns += [k for k, v in values.items() if isinstance(v, (int, float)) and k not in columns]
    header = ["subset"] + columns
    lines = [header] + [[name] + [_fmt(values.get(c)) for c in columns] for name, values in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)
    return f"{metrics.get('benchmark', '?')} — {metrics.get('scoring', '')}\n{text}"


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)
