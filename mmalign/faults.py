"""Named fault-injection points, for tests of what a crash at a given moment leaves behind.

`MMALIGN_FAULT=NAME` (or `NAME:N`, the N-th time the point is reached; default the first) makes the
process kill itself with SIGKILL at that point: no cleanup, no `finally`, as a power cut or an OOM kill
would. Points: `optimizer-step` (after an optimiser step), `checkpoint-write` (inside a checkpoint
write, after the model files, before the rename). Unset, a point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_hits: dict[str, int] = {}


def fault_point(name: str) -> None:
    spec = os.environ.get("MMALIGN_FAULT")
    if not spec:
        return
    wanted, _, count = spec.partition(":")
    if wanted != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
