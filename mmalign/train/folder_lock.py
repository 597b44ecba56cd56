"""One run at a time in an output folder: an OS lock (flock) on `OUTPUT_DIR/.mmalign.lock`, held by the main
process for the whole run. The OS drops it when the process ends, however it ends, so a killed run's folder
resumes without any cleanup."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ..errors import ConfigError

LOCK_FILE = ".mmalign.lock"


class FolderLock:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / LOCK_FILE
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._fd, 64, 0).decode(errors="replace").strip() or "another process"
            os.close(self._fd)
            raise ConfigError(f"output_dir {folder} is in use by another mmalign run ({holder}); wait for it to "
                              "finish, or choose another output_dir") from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"pid {os.getpid()}".encode(), 0)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing drops the lock
            self._fd = -1
