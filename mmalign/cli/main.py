"""`mmalign <command>`: dispatches to one small module per command; user mistakes (and a full disk) exit 1
without a traceback."""

from __future__ import annotations

import importlib
import sys
import traceback

from ..errors import MMAlignError
from ..io import disk_full_error, is_disk_full
from .launch_errors import tell_launcher

COMMANDS = {
    "train": ("mmalign.cli.train", "train a model from a YAML config: mmalign train CONFIG [key=value ...]"),
    "reward-ensemble": ("mmalign.cli.reward_ensemble", ("train M reward models and score pairs with each: "
                                                        "mmalign reward-ensemble CONFIG --members 4 --out DIR")),
    "data": ("mmalign.cli.data", "check and diagnose preference data: mmalign data validate|synth|probe|did ..."),
    "build-data": ("mmalign.cli.build_data", ("build preference pairs: mmalign build-data mia --data llava.json "
                                              "--root DIR --model PATH --out DIR")),
    "eval": ("mmalign.cli.eval", "evaluate a benchmark: mmalign eval BENCH --model PATH|--predictions FILE --data FILE --out DIR"),
    "generate": ("mmalign.cli.generate", "sample answers: mmalign generate --model PATH --data FILE --out DIR --n N"),
    "score": ("mmalign.cli.score", "score candidates: mmalign score --judge SPEC --data candidates.jsonl --out DIR"),
    "pairs": ("mmalign.cli.pairs", "candidates to pairs: mmalign pairs --data scored.jsonl --out DIR --rule RULE"),
    "rubrics": ("mmalign.cli.rubrics", ("OpenRubrics rubrics per pair: mmalign rubrics build --model PATH "
                                        "--data pairs.jsonl --out DIR")),
    "recipe": ("mmalign.cli.recipe", ("iterative recipes (SPPO, Self-Rewarding, Temporal SR, Curry-DPO): "
                                      "mmalign recipe CONFIG [key=value ...] [--dry-run]")),
    "report": ("mmalign.cli.report", "compare runs' metrics.json: mmalign report DIR... --out DIR"),
    "bench": ("mmalign.cli.bench", "benchmarks: mmalign bench video|dpo [--json]"),
    "demo": ("mmalign.cli.demo", "run the built-in demo on a CPU"),
}

USAGE = "usage: mmalign <command> [options]\n\ncommands:\n" + "\n".join(
    f"  {name:<16} {help}" for name, (_, help) in COMMANDS.items()
) + "\n\nRun 'mmalign <command> --help' for a command's options."


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    if argv[0] in ("-V", "--version"):
        from .. import __version__

        print(f"mmalign {__version__}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"mmalign: unknown command {name!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    try:
        try:
            return int(module.main(rest) or 0)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            raise disk_full_error(exc.filename, exc) from None  # a write no command turned into a message
    except MMAlignError as exc:
        if not tell_launcher(f"error: {exc}"):  # under torchrun the launcher's report says it, once per rank
            print(f"error: {exc}", file=sys.stderr)
        leave_process_group()
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # not the user's mistake: the traceback is printed, and the launcher gets it too
        tell_launcher(f"{type(exc).__name__}: {exc}", traceback.format_exc())
        raise


def leave_process_group() -> None:
    """Close the distributed process group, if this process joined one, before a clean error exit: left open,
    its threads abort the interpreter at exit ("terminate called without an active exception", exit -6)."""
    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def run_command(argv: list[str]) -> None:
    """Run one mmalign command in-process, echoing it first; a failure raises MMAlignError. For scripts
    that chain commands (scripts/reference_probe.py, scripts/video_experiment.py)."""
    import shlex

    print(f"\n$ mmalign {shlex.join(argv)}", flush=True)
    code = main(argv)
    if code != 0:
        raise MMAlignError(f"step failed (exit {code}): mmalign {shlex.join(argv)}")


if __name__ == "__main__":
    sys.exit(main())
