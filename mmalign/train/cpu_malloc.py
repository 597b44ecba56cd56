"""glibc's allocator settings for training on a CPU.

A training step allocates and frees the same large activation and gradient buffers every step. By default
glibc returns freed memory at the top of the heap to the OS (trim) and adapts its mmap threshold, so the
next step faults the same pages in again. Keeping freed memory (trim threshold 1 GiB) with a fixed 32 MiB
mmap threshold (glibc's maximum; larger buffers are still mapped and unmapped) made the tiny-LLaVA DPO step
13% faster on 2 CPU cores for 10% more peak RSS (docs/benchmarks.md); either setting alone does not help.
Only on Linux with glibc, once per process; `MMALIGN_KEEP_MALLOC=1` leaves the allocator as it is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
_done = False


def tune_for_cpu_training() -> bool:
    """Apply the settings above; True when they were applied (now or earlier in this process)."""
    global _done
    if _done:
        return True
    if os.environ.get("MMALIGN_KEEP_MALLOC") == "1" or platform.system() != "Linux" or \
            platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _done = bool(libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))
    return _done
