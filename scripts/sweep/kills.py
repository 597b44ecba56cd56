"""Random-time kill -9 of a command, then the same command again until it finishes, compared with an
uninterrupted run.

A reference run is timed first: when its growing file first appears (t_first), when it last grows (t_last)
and when the run ends (t_end). Each try then starts the command in a fresh folder and, 1 to `max_kills`
times, kills it and every process below it with SIGKILL at a random moment (4 in 5 draws fall between
t_first and t_last, while output is being written; the rest anywhere before t_end), starting it again each
time; the last start runs to the end.
A try counts as identical when the finished folder equals the reference (commands.Command.compare) and
no run printed a traceback.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .commands import Command, launcher

ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
       "MMALIGN_FAULT": ""}


@dataclass
class Kill:
    at_s: float  # seconds after the start
    killed: bool  # False: the run had already finished
    lines: int  # complete lines in the growing file(s) when it was killed
    torn: bool  # a half-written last line was left


@dataclass
class Try:
    command: str
    kills: list[Kill] = field(default_factory=list)
    identical: bool = False
    differences: list[str] = field(default_factory=list)
    traceback: bool = False
    exit_code: int = 0


def _start(command: Command, out: Path, log) -> subprocess.Popen:
    return subprocess.Popen([*launcher(command), *command.argv(out)], stdout=log, stderr=log,
                            env={**os.environ, **ENV, **command.env}, start_new_session=True)


def kill_tree(pid: int) -> None:
    """SIGKILL `pid` and every process below it, as a machine that loses power would: torchrun starts its
    workers in process groups of their own, so killing the launcher's group alone would leave them running."""
    for _ in range(3):  # again, for children started while the others were being killed
        found = [pid, *_descendants(pid)]
        for p in found:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if len(found) == 1:
            break


def _descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def _growing(command: Command, out: Path) -> tuple[int, bool]:
    lines, torn = 0, False
    for path in out.glob(command.growing):
        data = path.read_bytes()
        lines += data.count(b"\n")
        torn = torn or (bool(data) and not data.endswith(b"\n"))
    return lines, torn


def reference(command: Command, out: Path, timeout: float) -> tuple[float, float, float]:
    """Run `command` uninterrupted into `out`: (when its growing file appeared, when it last grew, when the
    run ended), in seconds from the start."""
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    first = last = None
    size = -1
    with open(out.parent / f"{out.name}.log", "wb") as log:
        proc = _start(command, out, log)
        while proc.poll() is None:
            now = sum(p.stat().st_size for p in out.glob(command.growing))
            if now != size:
                size, last = now, time.monotonic() - started
                first = last if first is None and now else first
            if time.monotonic() - started > timeout:
                kill_tree(proc.pid)
                raise RuntimeError(f"{command.name}: the reference run took over {timeout} s")
            time.sleep(0.005)
    end = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{command.name}: the reference run failed (exit {proc.returncode}); see {log.name}")
    return first or 0.0, last or end, end


def one_try(command: Command, ref: Path, out: Path, window: tuple[float, float, float], rng: random.Random,
            max_kills: int, timeout: float) -> Try:
    result = Try(command.name)
    log_path = out.parent / f"{out.name}.log"
    first, last, end = window
    with open(log_path, "wb") as log:
        for _ in range(rng.randint(1, max_kills)):
            at = rng.uniform(first, last) if rng.random() < 0.8 else rng.uniform(0.0, end)
            proc = _start(command, out, log)
            started = time.monotonic()
            while proc.poll() is None and time.monotonic() - started < at:
                time.sleep(0.005)
            running = proc.poll() is None
            if running:
                kill_tree(proc.pid)
            proc.wait()
            lines, torn = _growing(command, out)
            result.kills.append(Kill(round(time.monotonic() - started, 3), running, lines, torn))
        proc = _start(command, out, log)
        try:
            result.exit_code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
            proc.wait()
            result.exit_code = -signal.SIGKILL
    result.traceback = b"Traceback" in log_path.read_bytes()
    result.differences = command.compare(ref, out) if result.exit_code == 0 else [f"exit {result.exit_code}"]
    result.identical = result.exit_code == 0 and not result.differences and not result.traceback
    return result


def sweep(commands: dict[str, Command], tries: dict[str, int], work: Path, seed: int, max_kills: int,
          timeout: float, say=print) -> list[dict]:
    """`tries[name]` tries of each command; every try as a dict (Try's fields)."""
    rng = random.Random(seed)
    results = []
    for name, command in commands.items():
        n = tries.get(name, 0)
        if not n:
            continue
        ref = work / "runs" / f"{_slug(name)}-reference"
        window = reference(command, ref, timeout)
        say(f"{name}: uninterrupted in {window[2]:.1f} s (output written from {window[0]:.1f} to {window[1]:.1f} s); "
            f"{n} tries")
        for i in range(n):
            outcome = one_try(command, ref, work / "runs" / f"{_slug(name)}-{i}", window, rng, max_kills, timeout)
            kills = ", ".join(f"{k.at_s:.2f} s ({k.lines} lines{', torn' if k.torn else ''})" if k.killed
                              else f"{k.at_s:.2f} s (had finished)" for k in outcome.kills)
            say(f"  try {i + 1}: killed at {kills}: {'identical' if outcome.identical else outcome.differences}")
            results.append(asdict(outcome))
    return results


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-")
