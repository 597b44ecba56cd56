"""BENCHMARKS: every benchmark mmalign can score, by the name `mmalign eval BENCH` takes."""

from __future__ import annotations

from functools import partial

from . import (
    amber,
    chair,
    crbench,
    hallusionbench,
    mmhal,
    pope,
    rewardbench,
    synth,
    synth_reward,
    videohallucer,
    videorewardbench,
    vlrewardbench,
)
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
    # Reward benchmarks: a judge (not a model's answer) decides between each item's chosen and rejected.
    "videorewardbench": Benchmark(
        "videorewardbench", "VideoRewardBench video reward items; accuracy per dimension, overall micro "
        "(layout unconfirmed)",
        videorewardbench.read_questions, videorewardbench.score, frozenset(),
        ("accuracy", "macro_accuracy", "consistency"), kind="reward"),
    "vlrewardbench": Benchmark(
        "vlrewardbench", "VL-RewardBench image reward items; macro accuracy over general/hallucination/reasoning",
        vlrewardbench.read_questions, vlrewardbench.score, frozenset(),
        ("macro_accuracy", "accuracy", "consistency"), kind="reward"),
    "rewardbench": Benchmark(
        "rewardbench", "RewardBench text reward items; chat/chat hard/safety/reasoning and their mean",
        rewardbench.read_questions, rewardbench.score, frozenset(),
        ("score", "chat", "chat_hard", "safety", "reasoning", "accuracy"), kind="reward"),
    "crbench": Benchmark(
        "crbench", "COIG-P's CRBench, Chinese text reward items; accuracy per domain and overall",
        crbench.read_questions, crbench.score, frozenset(), ("accuracy", "consistency"), kind="reward"),
    "synth-reward": Benchmark(
        "synth-reward", "synthetic image reward items (true vs hallucinated answer), accuracy per kind",
        synth_reward.read_questions, synth_reward.score, frozenset(), ("accuracy", "consistency"), kind="reward"),
    "synth-reward-video": Benchmark(
        "synth-reward-video", "synthetic video reward items (object, direction), accuracy per subset",
        synth_reward.read_questions, partial(synth_reward.score, name="synth-reward-video"), frozenset(),
        ("accuracy", "consistency"), kind="reward"),
}

# Benchmarks whose questions and media mmalign can write itself (`--make-data DIR`).
SYNTHETIC = ("synth-pope", "synth-multi", "synth-video", "synth-reward", "synth-reward-video")


def get_benchmark(name: str) -> Benchmark:
    from ..errors import MMAlignError

    if name not in BENCHMARKS:
        raise MMAlignError(f"unknown benchmark {name!r}; choose one of: {', '.join(sorted(BENCHMARKS))}")
    return BENCHMARKS[name]
