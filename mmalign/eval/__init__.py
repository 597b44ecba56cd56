"""Hallucination benchmarks: official file readers, official answer parsing and metrics, reports.

`BENCHMARKS[name].read_questions(data_path, root)` gives Questions; `score_predictions(name, questions,
predictions)` gives a JSON-able metrics dict; `run_eval(name, questions, answer_fn, out_dir)` is where a
model's answers come in. See docs/evaluation.md.
"""

from .base import Benchmark, Question
from .predictions import answer_questions, read_predictions, recover_predictions
from .registry import BENCHMARKS, get_benchmark
from .runner import format_metrics, run_eval, score_predictions

__all__ = [
    "BENCHMARKS", "Benchmark", "Question", "answer_questions", "format_metrics", "get_benchmark",
    "read_predictions", "recover_predictions", "run_eval", "score_predictions",
]
