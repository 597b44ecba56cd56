"""The two video decoders behind :mod:`mmalign.data.video`: decord and PyAV.

Each backend opens one file into a short-lived handle with ``info()`` and ``get(indices)``; the handle
lives only inside one call of ``read_frames`` / ``video_info`` / ``load_clip`` and is closed before the
call returns. Nothing here keeps a decoder in a module global, so forking (DataLoader workers) never
shares a decoder between processes: decord readers created in a parent deadlock or crash in children,
and PyAV containers are not fork-safe either. Only the imported *modules* are cached.

Backend failures are raised as :class:`BackendFailure`; :mod:`mmalign.data.video` decides whether to
fall back to the other backend or to report the file as bad media.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

BACKENDS = ("decord", "pyav")


@dataclass(frozen=True)
class VideoInfo:
    """What the decoder reports: ``num_frames`` decodable frames (container metadata), ``fps`` (average
    frame rate), frame ``width`` x ``height`` in pixels, and which ``backend`` read it."""

    num_frames: int
    fps: float
    width: int
    height: int
    backend: str

    @property
    def duration(self) -> float:
        """Seconds, as ``num_frames / fps`` (0 when the frame rate is unknown)."""
        return self.num_frames / self.fps if self.fps > 0 else 0.0


class BackendFailure(Exception):
    """A backend could not open or decode a file (corrupt, truncated, unsupported...)."""


class IndexPastEnd(BackendFailure):
    """A requested frame index is at or past the number of frames the video has."""


def _import_decord():
    """The decord module; raises ImportError where it is not installed (no aarch64/macOS-arm wheels)."""
    return importlib.import_module("decord")


def _import_av():
    return importlib.import_module("av")


def _check_range(indices: Sequence[int], num_frames: int, path: Path) -> None:
    top = max(indices)
    if top >= num_frames:
        raise IndexPastEnd(f"frame index {top} is past the end of {path.name} ({num_frames} frames)")


class DecordHandle:
    """decord ``VideoReader`` on the CPU; ``get`` is one ``get_batch`` call over the sorted unique indices."""

    name = "decord"

    def __init__(self, path: Path, threads: int = 1):
        decord = _import_decord()  # ImportError propagates: the caller falls back to PyAV
        self.path = path
        try:
            self._vr = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=threads)
            self._num = len(self._vr)
            self._fps = float(self._vr.get_avg_fps())
        except Exception as exc:  # decord raises RuntimeError / DECORDError with C++ text
            raise BackendFailure(f"decord could not open {path.name}: {_first_line(exc)}") from exc
        if self._num <= 0:
            raise BackendFailure(f"decord found no video frames in {path.name}")

    def info(self) -> VideoInfo:
        try:
            h, w = self._vr[0].shape[:2]
            self._vr.seek(0)
        except Exception as exc:
            raise BackendFailure(f"decord could not decode {self.path.name}: {_first_line(exc)}") from exc
        return VideoInfo(self._num, self._fps, int(w), int(h), self.name)

    def get(self, indices: Sequence[int]) -> np.ndarray:
        _check_range(indices, self._num, self.path)
        try:
            # decode each frame once, in order (get_batch seeks back for every decreasing index:
            # reversed clips were ~3x slower), then put them in the asked order
            unique = sorted(set(indices))
            batch = self._vr.get_batch(unique).asnumpy()
            self._vr.seek(0)  # releases decoder buffers (decord issue #197)
        except Exception as exc:
            raise BackendFailure(f"decord could not decode {self.path.name}: {_first_line(exc)}") from exc
        where = {i: k for k, i in enumerate(unique)}
        return np.ascontiguousarray(batch[[where[i] for i in indices]], dtype=np.uint8)

    def close(self) -> None:
        self._vr = None  # decord frees on deletion; lmms-eval does the same to avoid leaks


class PyAVHandle:
    """PyAV container. ``get`` decodes from the start up to the last wanted frame (frame-exact, no seek)."""

    name = "pyav"

    def __init__(self, path: Path, threads: int = 1):
        self._av = _import_av()
        self.path = path
        self.threads = threads
        self._container = None
        try:
            self._container = self._av.open(str(path))
            if not self._container.streams.video:
                raise BackendFailure(f"{path.name} has no video stream")
            stream = self._container.streams.video[0]
            self._num = int(stream.frames or 0) or self._count_packets()
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate or Fraction(0)
            self._fps = float(rate)
            self._wh = (int(stream.codec_context.width), int(stream.codec_context.height))
        except BackendFailure:
            self.close()
            raise
        except Exception as exc:  # av.error.FFmpegError and friends
            self.close()
            raise BackendFailure(f"PyAV could not open {path.name}: {_first_line(exc)}") from exc
        if self._num <= 0:
            self.close()
            raise BackendFailure(f"PyAV found no video frames in {path.name}")

    def _count_packets(self) -> int:
        """Frame count when the container does not store one: count the video packets."""
        stream = self._container.streams.video[0]
        n = sum(1 for p in self._container.demux(stream) if p.size)
        self._container.seek(0)
        return n

    def info(self) -> VideoInfo:
        return VideoInfo(self._num, self._fps, self._wh[0], self._wh[1], self.name)

    def get(self, indices: Sequence[int]) -> np.ndarray:
        _check_range(indices, self._num, self.path)
        wanted = set(indices)
        last = max(indices)
        found: dict[int, np.ndarray] = {}
        try:
            container = self._av.open(str(self.path))  # a fresh demuxer: get() may be called twice
            try:
                stream = container.streams.video[0]
                if self.threads != 1:  # 0 = FFmpeg picks; 1 = single-threaded (one worker, one core)
                    stream.thread_type = "AUTO"
                stream.codec_context.thread_count = max(0, self.threads)
                for i, frame in enumerate(container.decode(stream)):
                    if i in wanted:
                        found[i] = frame.to_ndarray(format="rgb24")
                    if i >= last:
                        break
            finally:
                container.close()
        except Exception as exc:
            raise BackendFailure(f"PyAV could not decode {self.path.name}: {_first_line(exc)}") from exc
        if last not in found:
            raise BackendFailure(f"{self.path.name} ends after {len(found) and max(found) + 1} decodable "
                                 f"frame(s) but frame {last} was asked for (truncated?)")
        return np.stack([found[i] for i in indices]).astype(np.uint8, copy=False)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


HANDLES = {"decord": DecordHandle, "pyav": PyAVHandle}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send what native code writes to the process's stderr (file descriptor 2) nowhere for the block.

    decord (and the FFmpeg inside it) print their own log lines ("moov atom not found",
    "video_reader.cc:83: ERROR opening ...") on a file they cannot open; the failure still comes back as
    BackendFailure / RecordProblem with its reason, so commands that check many files (data validate,
    build-data video) wrap each decode in this. Python's own writes inside the block are lost too, so keep
    it short.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (embedded, some test runners): do nothing
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def backend_available(name: str) -> bool:
    """True when the backend's module imports here."""
    try:
        (_import_decord if name == "decord" else _import_av)()
    except ImportError:
        return False
    return True
