"""The fuzzers of tests/fuzz with more examples, and what they tried per input kind.

`pytest tests/fuzz --hypothesis-show-statistics` with MMALIGN_FUZZ_EXAMPLES=N (derandomised: the same cases
on every run); its statistics give, per test, the cases run and the share of outcomes the tests recorded
as hypothesis events ("read_records: returned", "read_records: DataError", ...).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Input kind of each fuzz file (tests/fuzz/test_fuzz_<x>.py).
KINDS = {
    "records": "preference records (JSONL)",
    "llava": "LLaVA instruction JSON",
    "candidates": "prompt and candidate files",
    "config": "training configs, overrides, objectives, transforms",
    "eval": "benchmark, prediction and judgment files",
    "eval_reward": "reward benchmark and judgment files",
    "judge": "judge prompts, rubrics, replies, specs",
    "recipe_rubrics": "recipe configs and overrides, rubric files and replies",
}
_HEADER = re.compile(r"^tests/fuzz/test_fuzz_(\w+)\.py::(\S+):$")
_CASES = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")
_EVENT = re.compile(r"\*\s+([\d.]+)%, (.+)$")


@dataclass
class KindStats:
    cases: int = 0
    failing: int = 0
    tests: int = 0
    returned: float = 0.0  # cases that ended in a result (estimated from the event shares)
    clean_errors: float = 0.0  # cases that ended in an error message naming the file / key
    seconds: float = 0.0
    names: list[str] = field(default_factory=list)


def parse(text: str) -> dict[str, KindStats]:
    """Per input kind, from pytest's --hypothesis-show-statistics output."""
    kinds: dict[str, KindStats] = {}
    stats, cases_here = None, 0
    for line in text.splitlines():
        line = line.rstrip()
        header = _HEADER.match(line)
        if header:
            stats = kinds.setdefault(KINDS.get(header.group(1), header.group(1)), KindStats())
            stats.tests += 1
            stats.names.append(header.group(2))
            continue
        if stats is None:
            continue
        found = _CASES.search(line)
        if found:
            cases_here = int(found.group(1)) + int(found.group(2))
            stats.cases += cases_here
            stats.failing += int(found.group(2))
            seconds = re.search(r"\(([\d.]+) seconds\)", line)
            stats.seconds += float(seconds.group(1)) if seconds else 0.0
            continue
        phase = re.search(r"during \w+ phase \(([\d.]+) seconds\)", line)
        if phase:
            stats.seconds += float(phase.group(1))
            continue
        event = _EVENT.search(line)
        if event:
            share = float(event.group(1)) / 100 * cases_here
            if event.group(2).endswith(": returned"):
                stats.returned += share
            elif event.group(2).endswith(("Error", "Problem")):
                stats.clean_errors += share
    return kinds


def run(examples: int, repo: Path, log: Path) -> tuple[dict[str, KindStats], int]:
    """Run tests/fuzz with `examples` examples per test; (stats per kind, pytest's exit code)."""
    env = {**os.environ, "MMALIGN_FUZZ_EXAMPLES": str(examples), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", "tests/fuzz", "-q", "-p", "no:cacheprovider",
                           "--hypothesis-show-statistics"], cwd=repo, env=env, capture_output=True, text=True,
                          check=False)
    log.write_text(done.stdout + done.stderr)
    return parse(done.stdout), done.returncode
