"""Run an `mmalign` command in a child process that kills itself at a named fault point (mmalign.faults), or
under a file-size limit (a full disk), and compare the folders two runs wrote.

The child is forked from the test process (mmalign and torch are already imported there), so a kill test
costs the command's own time, not a fresh interpreter's start. The child runs `mmalign.cli.main.main` on one
thread with its stdout and stderr in files; a run that outlives `timeout` is killed and fails the test.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Outcome:
    code: int  # the exit status, or minus the signal that ended the child (-9: killed)
    stdout: str
    stderr: str

    @property
    def killed(self) -> bool:
        return self.code == -signal.SIGKILL


def run_child(argv: list[str], *, fault: str = "", file_limit: int | None = None, timeout: float = 120) -> Outcome:
    """`mmalign ARGV` in a forked child with MMALIGN_FAULT=fault and RLIMIT_FSIZE=file_limit (bytes)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            code = 98
            try:
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 (flushed below, the process ends)
                sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
                os.environ["MMALIGN_FAULT"] = fault
                if file_limit is not None:  # a write past it fails with EFBIG, as on a full disk
                    resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
                import torch

                torch.set_num_threads(1)
                from mmalign.cli.main import main

                code = main(argv)
            except BaseException:  # noqa: BLE001 - reported on the child's stderr, for the test to show
                traceback.print_exc()
                code = 99
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        status = _wait(pid, timeout)
        out.seek(0)
        err.seek(0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        return Outcome(code, out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def _wait(pid: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"the child ran past {timeout} s (a hang?)")
        time.sleep(0.02)


def tree(folder: Path, ignore: tuple[str, ...] = ()) -> dict[str, bytes]:
    """{relative path: bytes} of every file under `folder`, leaving out paths starting with `ignore`."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not str(p.relative_to(folder)).startswith(ignore)}


def assert_same_tree(a: Path, b: Path, ignore: tuple[str, ...] = ()) -> None:
    """The two folders hold the same files with the same bytes."""
    ta, tb = tree(a, ignore), tree(b, ignore)
    assert ta.keys() == tb.keys(), sorted(ta.keys() ^ tb.keys())
    differ = sorted(k for k in ta if ta[k] != tb[k])
    assert not differ, f"files that differ: {differ}"


def assert_same_clips(a: Path, b: Path) -> None:
    """The same MP4 files under a/vid and b/vid, decoding to the same frames up to encoding noise (x264 does
    not always give the same bytes for the same frames, between two uninterrupted runs too)."""
    from mmalign.data.video import load_clip

    ca, cb = (sorted(p.name for p in (d / "vid").glob("*.mp4")) for d in (a, b))
    assert ca == cb and ca, sorted(set(ca) ^ set(cb))
    for name in ca:
        (fa, _, ia), (fb, _, ib) = (load_clip(d / "vid" / name, 16, "uniform") for d in (a, b))
        diff = abs(fa.astype(int) - fb.astype(int))
        assert ia.num_frames == ib.num_frames and diff.max() <= 48 and diff.mean() <= 1.0, name


def count_lines(path: Path) -> int:
    return len(path.read_bytes().splitlines()) if path.is_file() else 0
