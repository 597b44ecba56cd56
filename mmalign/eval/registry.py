"""BENCHMARKS: every benchmark mmalign can score, by the name `mmalign eval BENCH` takes."""

from __future__ import annotations

from functools import partial

from . import amber, chair, hallusionbench, mmhal, pope, synth, videohallucer
from .base import Benchmark

BENCHMARKS: dict[str, Benchmark] = {
    "pope": Benchmark(
        "pope", "POPE object existence (random/popular/adversarial); official first-sentence rule",
        pope.read_questions, pope.score, frozenset(), ("f1", "accuracy", "yes_ratio")),
    "videohallucer": Benchmark(
        "videohallucer", "VideoHallucer basic/hallucinated pairs; paired accuracy per subset",
        videohallucer.read_questions, videohallucer.score, frozenset({"match"}),
        ("accuracy", "basic_accuracy", "halluc_accuracy", "yes_diff", "fp_ratio")),
    "amber": Benchmark(
        "amber", "AMBER discriminative (No = positive) and generative CHAIR/Cover/Hal/Cog",
        amber.read_questions, amber.score,
        frozenset({"data_path", "association", "safe_words", "noun_extractor", "similarity"}),
        ("accuracy", "f1", "chair", "cover", "hal", "cog")),
    "hallusionbench": Benchmark(
        "hallusionbench", "HallusionBench aAcc/fAcc/qAcc; rule-based yes/no or judge mode",
        hallusionbench.read_questions, hallusionbench.score, frozenset({"mode", "judge", "judge_name"}),
        ("aAcc", "fAcc", "qAcc", "easy_aAcc", "hard_aAcc")),
    "mmhal": Benchmark(
        "mmhal", "MMHal-Bench 0-6 judge rating and hallucination rate (local judge)",
        mmhal.read_questions, mmhal.score, frozenset({"judge", "judge_name"}),
        ("average_score", "hallucination_rate")),
    "chair": Benchmark(
        "chair", "CHAIR_i / CHAIR_s over COCO objects with a user-supplied synonym list",
        chair.read_questions, chair.score, frozenset({"synonyms", "singularize"}), ("chair_i", "chair_s")),
    "synth-pope": Benchmark(
        "synth-pope", "synthetic object/colour existence (random/popular/adversarial), POPE metrics",
        partial(synth.read_suite, "synth-pope"), synth.score_pope, frozenset(),
        ("accuracy", "f1", "hallucination_rate", "yes_ratio")),
    "synth-multi": Benchmark(
        "synth-multi", "synthetic questions about one image of several (sequence/collage/inset)",
        partial(synth.read_suite, "synth-multi"), synth.score_multi, frozenset(),
        ("accuracy", "hallucination_rate")),
    "synth-video": Benchmark(
        "synth-video", "synthetic moving-shape videos, basic/hallucinated yes/no pairs (object/direction/temporal)",
        partial(synth.read_suite, "synth-video"), synth.score_video, frozenset(),
        ("accuracy", "paired_accuracy", "hallucination_rate")),
}

# Benchmarks whose questions and media mmalign can write itself (`--make-data DIR`).
SYNTHETIC = ("synth-pope", "synth-multi", "synth-video")


def get_benchmark(name: str) -> Benchmark:
    from ..errors import MMAlignError

    if name not in BENCHMARKS:
        raise MMAlignError(f"unknown benchmark {name!r}; choose one of: {', '.join(sorted(BENCHMARKS))}")
    return BENCHMARKS[name]
