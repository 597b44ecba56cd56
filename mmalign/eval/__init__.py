"""Hallucination benchmarks: official file readers, official answer parsing and metrics, reports.

`BENCHMARKS[name].read_questions(data_path, root)` gives Questions; `score_predictions(name, questions,
predictions)` gives a JSON-able metrics dict; `run_eval(name, questions, answer_fn, out_dir)` is where a
model's answers come in (`generation.model_answer_fn` puts a model behind `mmalign.models.generate`
there). Synthetic suites (`SYNTHETIC`: synth-pope, synth-multi, synth-video) are written by
`mmalign.data.synth.suites.write_suite`. `read_answers(files, questions, benchmark=name)` reads answer
files in mmalign's, LLaVA's or the official scorers' formats (`answer_formats.FORMATS`). See
docs/evaluation.md.
"""

from .answer_files import read_answers
from .answer_formats import FORMAT_NAMES
from .base import Benchmark, Question
from .generation import model_answer_fn
from .predictions import answer_questions, read_predictions, recover_predictions
from .registry import BENCHMARKS, SYNTHETIC, get_benchmark
from .runner import format_metrics, run_eval, score_predictions

__all__ = [
    "BENCHMARKS", "FORMAT_NAMES", "SYNTHETIC", "Benchmark", "Question", "answer_questions", "format_metrics", "get_benchmark",
    "model_answer_fn", "read_answers", "read_predictions", "recover_predictions", "run_eval", "score_predictions",
]
