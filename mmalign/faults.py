"""Named fault-injection points, for tests of what a crash at a given moment leaves behind.

`MMALIGN_FAULT=NAME` (or `NAME:N`, the N-th time the point is reached; default the first) makes the
process kill itself with SIGKILL at that point: no cleanup, no `finally`, as a power cut or an OOM kill
would. Unset, a point costs one dictionary lookup. Points:

- `optimizer-step`: after an optimiser step (`mmalign train`);
- `checkpoint-write`: inside a checkpoint write, after the model files, before the rename;
- `build-data-line`: after a line of `build-data mia` (pairs.jsonl or progress.jsonl) or `build-data video`
  (video_pairs.jsonl) is written;
- `generate-line`, `score-line`: after a line of a part file of `mmalign generate` / `mmalign score`
  (OUT/parts/*.jsonl);
- `eval-line`: after an answer (predictions.jsonl) or a judgment (judgments.jsonl) of `mmalign eval`;
- `rubric-line`: after a record's line of `mmalign rubrics build` (OUT/parts/rubrics-0.jsonl);
- `torn-line`: half-way through a line of any of those files (the first half written, then the kill).

Counting the lines is per process: `build-data-line:3` kills after the third line the command writes.
`tests/reliability/` kills each command at these points and checks that rerunning it ends with the output
of an uninterrupted run; `scripts/reliability_sweep.py` kills them at random moments too.
"""

from __future__ import annotations

import os
import signal

_hits: dict[str, int] = {}


def armed(name: str) -> bool:
    """Whether `MMALIGN_FAULT` names the point `name` (so a caller may take its slower, observable path)."""
    spec = os.environ.get("MMALIGN_FAULT")
    return bool(spec) and spec.partition(":")[0] == name


def reached(name: str) -> bool:
    """Count one pass through the point `name`; True on the pass `MMALIGN_FAULT` asks to die at."""
    spec = os.environ.get("MMALIGN_FAULT")
    if not spec:
        return False
    wanted, _, count = spec.partition(":")
    if wanted != name:
        return False
    _hits[name] = _hits.get(name, 0) + 1
    return _hits[name] == int(count or 1)


def die() -> None:
    """SIGKILL this process now."""
    os.kill(os.getpid(), signal.SIGKILL)


def fault_point(name: str) -> None:
    if reached(name):
        die()
