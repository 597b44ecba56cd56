"""Progress on long steps: a bar while the step runs, on a terminal, and one line with its time when it ends.

tqdm redraws its bar in place with carriage returns. In a log file every redraw stays, so bars are drawn
only when stderr is a terminal (tqdm's `disable=None`); every long step also ends with one plain line
saying what it did and how long it took, which reads the same on a terminal and in a log.
"""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def on_terminal() -> bool:
    """Whether progress bars are drawn: stderr, where tqdm writes them, is a terminal."""
    return sys.stderr.isatty()


def bar(*, total: int, initial: int = 0, desc: str, unit: str, enabled: bool = True) -> tqdm:
    """A tqdm bar drawn when `enabled` and stderr is a terminal (a no-op bar otherwise)."""
    return tqdm(total=total, initial=initial, desc=desc, unit=unit, dynamic_ncols=True,
                disable=None if enabled else True)


def duration(seconds: float) -> str:
    """A duration as people read it: "0.4 s", "12 s", "4 min 07 s"."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"
