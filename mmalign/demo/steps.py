"""The demo's steps as library calls, each announced with the `mmalign` command that does the same, since
users copy those lines to rerun a step on its own.

The long steps (answering, pair building, training) draw their progress bars when stderr is a terminal
and leave them off in a log, where each redraw would stay (`mmalign.progress`); every step ends with a line
giving its time either way.

Used by the demo pipeline, the reader base's stages and the experiment scripts.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path

from ..errors import MMAlignError
from ..progress import duration, on_terminal


def announce(argv: list[str]) -> None:
    """Print the command line that does what the next call does."""
    print(f"\n$ mmalign {shlex.join(str(a) for a in argv)}", flush=True)


def train_step(config: Path, overrides: list[str] = ()) -> Path:
    """`mmalign train CONFIG key=value ...` (with `progress=false` added when stderr is not a terminal);
    returns the final model folder."""
    from ..train.config import load_train_config
    from ..train.trainer import train

    overrides = [*overrides, *([] if on_terminal() else ["progress=false"])]
    announce(["train", str(config), *overrides])
    started = time.perf_counter()
    result = train(load_train_config(config, overrides))
    print(f"wrote {result.final_dir} (trained in {duration(time.perf_counter() - started)})", flush=True)
    return result.final_dir


def synth_llava_step(out: Path, seed: int, count: int) -> Path:
    """`mmalign data synth llava`; returns the LLaVA-format JSON file."""
    from ..data.synth.world import write_llava_instructions

    announce(["data", "synth", "llava", "--out", str(out), "--seed", str(seed), "--count", str(count)])
    path = write_llava_instructions(out, seed=seed, count=count)
    print(f"wrote {path}")
    return path


def eval_step(suite: str, model: Path, out: Path, suite_dir: Path, *, seed: int, count: int,
              batch_size: int, max_new_tokens: int = 6) -> dict:
    """`mmalign eval SUITE --model ...` on a synthetic suite, written to `suite_dir` first when missing (the
    command's `--make-data`). Returns the metrics."""
    from ..data.synth.suites import write_suite
    from ..eval import format_metrics
    from ..eval.with_model import evaluate_model

    questions = suite_dir / "questions.jsonl"
    argv = ["eval", suite, "--model", str(model), "--out", str(out), "--batch-size", str(batch_size),
            "--max-new-tokens", str(max_new_tokens)]
    make = not questions.is_file()
    announce(argv + (["--make-data", str(suite_dir), "--seed", str(seed), "--count", str(count)] if make
                     else ["--data", str(questions)]))
    if make:
        try:
            print(f"wrote {write_suite(suite, suite_dir, seed=seed, count=count)}")
        except (ValueError, RuntimeError) as exc:
            raise MMAlignError(f"{suite}: {exc}") from None
    metrics = evaluate_model(suite, questions, out, model, batch_size=batch_size, max_new_tokens=max_new_tokens,
                             progress=True)
    print(format_metrics(metrics))
    print(f"wrote {out / 'predictions.jsonl'} and {out / 'metrics.json'}")
    return metrics


def mia_step(data: Path, model: Path, out: Path, *, seed: int, formats: str, selector: str, min_ppl: float,
             replay: int, open_only: bool, batch_size: int, cell: int = 32, margin: int = 4,
             max_new_tokens: int = 8) -> dict:
    """`mmalign build-data mia` with the demo's settings (images under the data file's folder); returns the
    build summary."""
    from ..pairs import MiaConfig, build_mia, parse_formats, summary_text
    from ..select import build_selector

    progress = on_terminal()
    announce(["build-data", "mia", "--data", str(data), "--root", str(data.parent), "--model", str(model),
              "--out", str(out), "--cell", str(cell), "--margin", str(margin), "--max-new-tokens",
              str(max_new_tokens), "--batch-size", str(batch_size), "--seed", str(seed), "--selector", selector,
              "--min-ppl", str(min_ppl), "--formats", formats, "--replay", str(replay),
              *(["--open-only"] if open_only else []), *([] if progress else ["--no-progress"])])
    config = MiaConfig(formats=parse_formats(formats), seed=seed, batch_size=batch_size,
                       max_new_tokens=max_new_tokens, cell=cell, margin=margin, progress=progress,
                       open_only=open_only, replay=replay,
                       selector=build_selector(selector, seed=seed, min_ppl=min_ppl))
    started = time.perf_counter()
    summary = build_mia(data, data.parent, model, out, config)
    print(summary_text(summary, out))
    print(f"(built in {duration(time.perf_counter() - started)})", flush=True)
    return summary
