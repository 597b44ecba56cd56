"""Work that one process does for all, and problems that stop every process alike.

`accelerator.main_process_first()` runs the main process's work before a barrier that the others wait
at; if that work raises (a bad record, a missing file), the main process never reaches the barrier and
the other ranks hang until the collective times out. `main_first` runs the same schedule but carries
the main process's error to every rank, so all of them stop with the same message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch
from accelerate.utils import broadcast_object_list, gather_object

from ..errors import ConfigError, DataError, MMAlignError

T = TypeVar("T")
# The error classes a rank may re-raise by name (what users see is the message; the class sets the exit path).
_ERRORS = {cls.__name__: cls for cls in (MMAlignError, ConfigError, DataError)}


def main_first(accelerator, work: Callable[[], T], then: Callable[[], T] | None = None) -> T:
    """Run `work()` on the main process, then (after it finished) `then()` on the other ranks — `work()`
    again when `then` is None, e.g. to read what the main process wrote. A user error raised by the main
    process's `work` is raised on every rank with the same message."""
    if accelerator.num_processes == 1:
        return work()
    result, error = None, None
    if accelerator.is_main_process:
        try:
            result = work()
        except MMAlignError as exc:
            error = (type(exc).__name__, str(exc))
    shared = [error]
    broadcast_object_list(shared)  # also the barrier: the others wait here for the main process
    _raise_shared(shared[0])
    if not accelerator.is_main_process:
        result = (then or work)()
    return result


def stop_together(accelerator, problem: str | None, error: type[MMAlignError] = DataError) -> None:
    """Called by every rank at the same point: when any rank has a problem (a bad record in its slice),
    every rank raises `error` with the first rank's message, so none is left waiting in a collective."""
    if accelerator.num_processes == 1:
        if problem is not None:
            raise error(problem)
        return
    # A one-number reduce each call; the messages travel only when some rank has one.
    flag = torch.tensor(float(problem is not None), device=accelerator.device)
    if float(accelerator.reduce(flag, "sum")) > 0:
        problems = [p for p in gather_object([problem]) if p is not None]
        raise error(problems[0])


def _raise_shared(error: tuple[str, str] | None) -> None:
    if error is not None:
        name, message = error
        raise _ERRORS.get(name, MMAlignError)(message)
