"""The commands the reliability sweep kills: tiny inputs for each, the command line, the file that grows
while it runs, and how two finished runs are compared.

Every command is the same on each try (train includes `resume_from=latest`, which starts afresh in an
empty folder), so "rerun the same command" is literally what the sweep does.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# Metrics that depend on the wall clock, left out when two runs' metrics.jsonl are compared.
TIMING = ("samples/s", "tokens/s")


@dataclass
class Command:
    name: str
    argv: Callable[[Path], list[str]]  # the command line for an output folder (after `python -m mmalign.cli.main`)
    growing: str  # glob, under the output folder, of the JSONL file(s) that grow while it runs
    compare: Callable[[Path, Path], list[str]]  # differences between a reference folder and a resumed one
    nproc: int = 1  # > 1: under torchrun
    slow: bool = False  # a run of a minute or more (a whole recipe): as few tries as 2-process training
    env: dict = field(default_factory=dict)


def tree_differences(a: Path, b: Path, ignore: tuple[str, ...] = ()) -> list[str]:
    """Files present in one folder only, or with other bytes."""
    def files(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
                if p.is_file() and not str(p.relative_to(folder)).startswith(ignore)}

    fa, fb = files(a), files(b)
    return sorted(set(fa) ^ set(fb)) + sorted(k for k in set(fa) & set(fb) if fa[k] != fb[k])


def video_differences(a: Path, b: Path) -> list[str]:
    """Every file byte for byte except the MP4 clips, which must decode to the same frames up to encoding
    noise: x264 does not always give the same bytes for the same frames (two uninterrupted runs differ too)."""
    problems = tree_differences(a, b, ignore=("vid/",))
    ca, cb = ({p.name for p in (d / "vid").glob("*.mp4")} for d in (a, b))
    problems += [f"vid/{n} in one run only" for n in sorted(ca ^ cb)]
    problems += [f"vid/{n} decodes to other frames" for n in sorted(ca & cb)
                 if not clips_match(a / "vid" / n, b / "vid" / n)]
    return problems


def clips_match(a: Path, b: Path, max_diff: int = 48, mean_diff: float = 1.0) -> bool:
    """Same frame count, and 16 frames spread over them differ by at most `max_diff` in any pixel and
    `mean_diff` on average (encoding noise; other frames or another perturbation differ far more)."""
    from mmalign.data.video import load_clip

    (fa, _, ia), (fb, _, ib) = (load_clip(p, 16, "uniform") for p in (a, b))
    diff = abs(fa.astype(int) - fb.astype(int))
    return ia.num_frames == ib.num_frames and int(diff.max()) <= max_diff and float(diff.mean()) <= mean_diff


def train_differences(a: Path, b: Path) -> list[str]:
    """final/ weights bit for bit, metrics.jsonl row for row without the timings."""
    from safetensors.torch import load_file

    problems = []
    wa, wb = ({k: v for f in sorted((d / "final").glob("*.safetensors")) for k, v in load_file(str(f)).items()}
              for d in (a, b))
    if not wa or wa.keys() != wb.keys():
        problems.append("final/ holds other tensors")
    problems += [f"final/{k} differs" for k in sorted(set(wa) & set(wb)) if not wa[k].equal(wb[k])]

    def rows(d: Path) -> list[dict]:
        if not (d / "metrics.jsonl").is_file():
            return []
        lines = (d / "metrics.jsonl").read_text().splitlines()
        return [{k: v for k, v in json.loads(x).items() if k not in TIMING} for x in lines]

    ra, rb = rows(a), rows(b)
    if [r.get("step") for r in ra] != [r.get("step") for r in rb]:
        problems.append(f"metrics.jsonl steps {[r.get('step') for r in rb]} (uninterrupted: "
                        f"{[r.get('step') for r in ra]})")
    elif ra != rb:
        problems.append("metrics.jsonl values differ")
    return problems


def recipe_differences(a: Path, b: Path) -> list[str]:
    """The last round's training as for train, and the summary with each run's folder written as OUT."""
    problems = [f"iter-2/train: {p}" for p in train_differences(a / "iter-2" / "train", b / "iter-2" / "train")]
    sa, sb = ((d / "summary.csv").read_text().replace(str(d), "OUT") if (d / "summary.csv").is_file() else ""
              for d in (a, b))
    return problems + (["summary.csv differs"] if sa != sb else [])


def prepare(work: Path, quick: bool) -> dict[str, Command]:
    """Write the inputs under `work` (a tiny LLaVA, synthetic data) and return the commands by name."""
    from mmalign.data.synth import write_llava_instructions, write_preference_pairs
    from mmalign.data.synth.suites import write_suite
    from mmalign.data.synth.video import write_video_dataset
    from mmalign.models.tiny import TinyLlavaSpec, build_tiny_llava

    scale = 1 if quick else 2
    model = work / "tiny-llava"
    if not (model / "config.json").is_file():
        build_tiny_llava(model, TinyLlavaSpec(num_layers=4))  # slow enough for kills to land mid-output
    pairs = write_preference_pairs(work / "pairs", seed=3, count=64 * scale)
    llava = write_llava_instructions(work / "llava", seed=4, count=96 * scale)
    videos = write_video_dataset(work / "videos", seed=5, count=24 * scale, frames=8, px=96)
    pope = write_suite("synth-pope", work / "pope", seed=3, count=192 * scale)
    prompts = work / "prompts.jsonl"
    prompts.write_text("".join(pairs.read_text().splitlines(keepends=True)[:48 * scale]))
    candidates = work / "candidates.jsonl"
    candidates.write_text("".join(
        json.dumps({"id": f"p{i}", "prompt": "What colour is the shape?", "reference": "Red.",
                    "candidates": [{"text": "Red."}, {"text": "Blue."}, {"text": "A red square."}]}) + "\n"
        for i in range(48 * scale)))

    def train_config(nproc: int) -> Path:
        path = work / f"train-{nproc}.yaml"
        path.write_text(yaml.safe_dump({
            "model": str(model), "data": str(pairs), "max_steps": 40 * scale, "save_steps": 1,
            "per_device_batch_size": 4 // nproc, "learning_rate": 1e-3, "max_length": 64, "progress": False,
            "seed": 1, "resume_from": "latest"}))
        return path

    def train_argv(nproc: int):
        config = train_config(nproc)
        return lambda out: ["train", str(config), f"output_dir={out}"]

    judge = f"pointwise:model={model},max_new_tokens=4"

    def recipe_argv(out: Path) -> list[str]:  # iterative DPO, 2 rounds, a noisy oracle as the judge
        return ["recipe", str(Path(__file__).resolve().parents[2] / "configs" / "recipes" / "iterative_dpo.yaml"),
                f"model={model}", f"prompts={prompts}", f"root={pairs.parent}", f"output_dir={out}", "iterations=2", "sample.n=3",
                "sample.max_new_tokens=6", "judges=[\"oracle:noise=2\"]", "device=cpu", "train.max_steps=4",
                "train.per_device_batch_size=4", "train.precision=fp32", "train.gradient_checkpointing=false",
                "train.lora.enabled=false", "train.learning_rate=1e-3", "train.gradient_accumulation_steps=1",
                "train.progress=false", "train.max_length=64"]
    return {
        "train": Command("train", train_argv(1), "metrics.jsonl", train_differences),
        "train (2 processes)": Command("train (2 processes)", train_argv(2), "metrics.jsonl", train_differences,
                                       nproc=2),
        "build-data mia": Command("build-data mia", lambda out: [
            "build-data", "mia", "--data", str(llava), "--model", str(model), "--out", str(out), "--cell", "48",
            "--margin", "8", "--max-new-tokens", "4", "--batch-size", "4", "--no-progress", "--min-ppl", "-1",
            "--selector", "random"], "progress.jsonl", tree_differences),
        "build-data video": Command("build-data video", lambda out: [
            "build-data", "video", "--data", str(videos), "--out", str(out), "--frames", "8", "--fps", "4"],
            "video_pairs.jsonl", video_differences),
        "generate": Command("generate", lambda out: [
            "generate", "--model", str(model), "--data", str(prompts), "--root", str(pairs.parent), "--out", str(out),
            "--n", "2",
            "--max-new-tokens", "6", "--seed", "7"], "parts/generate-*.jsonl", tree_differences),
        "score": Command("score", lambda out: [
            "score", "--judge", "oracle:noise=1", "--judge", judge, "--data", str(candidates), "--out", str(out)],
            "parts/score-*.jsonl", tree_differences),
        "recipe": Command("recipe", recipe_argv, "iter-*/*/parts/*.jsonl", recipe_differences, slow=True),
        "rubrics build": Command("rubrics build", lambda out: [
            "rubrics", "build", "--model", str(model), "--data", str(prompts), "--root", str(pairs.parent),
            "--out", str(out), "--samples", "2", "--max-new-tokens", "12", "--judge-max-new-tokens", "4", "--seed", "3",
            "--device", "cpu"], "parts/*.jsonl", tree_differences),
        "eval": Command("eval", lambda out: [
            "eval", "synth-pope", "--data", str(pope), "--model", str(model), "--out", str(out), "--batch-size",
            "4", "--max-new-tokens", "3"], "predictions.jsonl", tree_differences),
    }


def launcher(command: Command) -> list[str]:
    if command.nproc > 1:
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
                str(command.nproc), "-m", "mmalign.cli.main"]
    return [sys.executable, "-m", "mmalign.cli.main"]
