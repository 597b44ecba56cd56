"""Evaluate a model on a benchmark in one call: what `mmalign eval BENCH --model PATH` runs.

    metrics = evaluate_model("synth-pope", "suite/questions.jsonl", "runs/eval", "runs/dpo/final")

Answers go to OUT/predictions.jsonl as they come (a rerun asks only the questions not yet answered), then
they are scored and OUT/metrics.json is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import MMAlignError
from .registry import get_benchmark
from .runner import run_eval


def evaluate_model(bench: str, data: str | Path, out: str | Path, model: str | Path, *,
                   root: str | Path | None = None, batch_size: int = 8, max_new_tokens: int = 32,
                   video_frames: int = 0, device: str = "auto", dtype: str | None = None,
                   options: dict[str, Any] | None = None, progress: bool = True) -> dict:
    """Answer every question of `bench` in `data` with the model at `model` (greedy) and score the answers.

    `device="auto"` picks CUDA when available; `video_frames` samples N frames per video (required for
    video benchmarks); `options` are the benchmark's own options (e.g. {"match": "first_sentence"}).
    `progress` says which model is loading, draws a bar over the questions on a terminal and ends the
    answering with one line giving its time (`mmalign.progress`).
    Returns the metrics dict, also written to OUT/metrics.json.
    """
    import torch

    from ..models import load
    from ..models.generate import takes_videos
    from .generation import check_media_support, model_answer_fn

    for flag, value in (("batch_size", batch_size), ("max_new_tokens", max_new_tokens)):
        if value < 1:
            raise MMAlignError(f"{flag} must be at least 1, got {value}")
    benchmark = get_benchmark(bench)
    questions = benchmark.read_questions(str(data), None if root is None else str(root))
    options = dict(options or {})
    if "data_path" in benchmark.options:  # benchmarks that read more files beside the questions
        options.setdefault("data_path", str(data))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if progress:  # loading prints nothing itself (load.py turns the hub's bars off) and can take minutes
        print(f"loading model {model} ({device})", flush=True)
    loaded = load(model, dtype=dtype, device=device)
    check_media_support(questions, is_vision=loaded.adapter.is_vision, video_frames=video_frames)
    answer_fn = model_answer_fn(loaded.model, loaded.processor, adapter=loaded.adapter,
                                max_new_tokens=max_new_tokens, batch_size=batch_size, video_frames=video_frames)
    info = {"inputs": {"data": str(data), "model": str(model)},
            "generation": {"max_new_tokens": max_new_tokens, "batch_size": batch_size,
                           "video_frames": video_frames, "do_sample": False,
                           "video_input": "video" if takes_videos(loaded.processor) else "frames as images"}}
    return run_eval(benchmark, questions, answer_fn, out, batch_size, info=info, progress=progress, **options)
