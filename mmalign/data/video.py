"""Video IO: frame-index sampling and decoding with decord (default) or PyAV (fallback).

    info = video_info("clips/4.mp4")                        # VideoInfo(num_frames, fps, width, height, backend)
    idx = sample_indices(info.num_frames, 8, "uniform")     # one sampler for both backends
    frames, backend = read_frames("clips/4.mp4", idx)       # [T, H, W, 3] uint8 RGB, "decord" | "pyav"

``backend="auto"`` uses decord, and PyAV where decord is not installed (ImportError; decord 0.6.0 has
wheels for Linux x86_64 only) or fails on a file. A missing, corrupt or truncated video raises
``RecordProblem("bad_media", ...)``, which the record reader counts like any other bad record.

Fork safety: decoders are opened inside each call and closed before it returns; none is kept in a module
global, so DataLoader workers (forked or spawned) each open their own. Call these functions from
``Dataset.__getitem__``, never hand a decoder object across processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import MMAlignError
from .image_limits import check_frame_size
from .schema import RecordProblem
from .video_backends import BACKENDS, HANDLES, BackendFailure, IndexPastEnd, VideoInfo, backend_available

STRATEGIES = ("uniform", "random_offset", "fps")

__all__ = ["BACKENDS", "STRATEGIES", "VideoInfo", "available_backends", "load_clip", "read_frames",
           "sample_indices", "video_info"]


# ----------------------------------------------------------------------------------------------- sampling

def sample_indices(num_frames: int, num_samples: int | None = 8, strategy: str = "uniform", *,
                   seed: int | None = None, fps: float | None = None,
                   video_fps: float | None = None) -> list[int]:
    """Frame indices to decode from a video of ``num_frames`` frames.

    * ``uniform``: ``floor(linspace(0, num_frames - 1, num_samples))`` — first and last frame included,
      repeats when ``num_samples > num_frames`` (the rule LLaVA-style video code uses).
    * ``random_offset``: split ``[0, num_frames)`` into ``num_samples`` equal segments and take one
      random frame in each (TSN-style); needs ``seed``; same seed, same indices.
    * ``fps``: one frame every ``1 / fps`` seconds of a video recorded at ``video_fps``, starting at
      frame 0, no repeats; with ``num_samples`` set, at most that many (thinned uniformly).
    """
    if num_frames <= 0:
        raise ValueError(f"num_frames must be positive, got {num_frames}")
    if strategy == "uniform":
        n = _need_count(num_samples, strategy)
        return [int(i) for i in np.linspace(0, num_frames - 1, n).astype(np.int64)]
    if strategy == "random_offset":
        n = _need_count(num_samples, strategy)
        if seed is None:
            raise ValueError("strategy 'random_offset' needs a seed (e.g. derived from epoch and record id)")
        edges = np.linspace(0, num_frames, n + 1)
        starts = np.floor(edges[:-1]).astype(np.int64)
        ends = np.maximum(starts + 1, np.floor(edges[1:]).astype(np.int64))
        offsets = np.random.default_rng(seed).integers(0, ends - starts)
        return [int(i) for i in np.minimum(starts + offsets, num_frames - 1)]
    if strategy == "fps":
        if not fps or fps <= 0 or not video_fps or video_fps <= 0:
            raise ValueError("strategy 'fps' needs fps > 0 and the video's video_fps > 0")
        step = video_fps / fps
        picks: list[int] = []
        k = 0
        while (i := int(np.floor(k * step + 1e-9))) < num_frames:
            if not picks or i != picks[-1]:
                picks.append(i)
            k += 1
        if num_samples is not None and len(picks) > num_samples:
            keep = np.linspace(0, len(picks) - 1, _need_count(num_samples, strategy)).astype(np.int64)
            picks = [picks[j] for j in keep]
        return picks
    raise ValueError(f"unknown sampling strategy {strategy!r}; valid: {', '.join(STRATEGIES)}")


def _need_count(num_samples: int | None, strategy: str) -> int:
    if num_samples is None or num_samples <= 0:
        raise ValueError(f"strategy {strategy!r} needs num_samples > 0, got {num_samples}")
    return int(num_samples)


# ----------------------------------------------------------------------------------------------- decoding

def available_backends() -> list[str]:
    """The backends whose module imports in this environment, in preference order."""
    return [name for name in BACKENDS if backend_available(name)]


def _order(backend: str) -> tuple[str, ...]:
    if backend == "auto":
        return BACKENDS
    if backend not in BACKENDS:
        raise ValueError(f"unknown video backend {backend!r}; valid: auto, {', '.join(BACKENDS)}")
    return (backend,)


def _with_handle(path: str | Path, backend: str, threads: int, work):
    """Open ``path`` with the first backend that works, run ``work(handle)``, close it.

    In ``auto`` mode a backend that is not installed or fails on this file hands over to the next one;
    when every backend fails the file is bad media. A named backend that is not installed is a setup
    error (MMAlignError), not a bad record.
    """
    path = Path(path)
    order = _order(backend)
    if not path.is_file():
        raise RecordProblem("bad_media", f"video {str(path)!r} not found")
    failures: list[str] = []
    for name in order:
        try:
            handle = HANDLES[name](path, threads)
        except ImportError as exc:
            if backend != "auto":
                raise MMAlignError(f"video backend {name!r} is not installed here ({exc}); use "
                                   "backend='auto' or install it") from exc
            continue
        except BackendFailure as exc:
            failures.append(str(exc))
            continue
        try:
            return work(handle), name
        except IndexPastEnd as exc:  # the file decoded fine; the request does not fit it
            raise RecordProblem("bad_media", str(exc)) from exc
        except BackendFailure as exc:
            failures.append(str(exc))
        finally:
            handle.close()
    if not failures:
        raise MMAlignError("no video backend is installed: install 'av' (PyAV) or 'decord'")
    raise RecordProblem("bad_media", f"cannot decode video {str(path)!r}: " + "; ".join(failures))


def _checked(indices: Sequence[int]) -> list[int]:
    out = [int(i) for i in indices]
    if not out:
        raise ValueError("indices must not be empty")
    if min(out) < 0:
        raise ValueError(f"frame indices must be >= 0, got {min(out)}")
    return out


def read_frames(path: str | Path, indices: Sequence[int], backend: str = "auto", *,
                threads: int = 1) -> tuple[np.ndarray, str]:
    """Decode the frames at ``indices`` (any order, repeats allowed).

    Returns ``(frames, backend_used)``: ``frames`` is a new ``[len(indices), H, W, 3]`` uint8 RGB array.
    ``threads``: decoder threads (1 suits one DataLoader worker per core; 0 lets FFmpeg choose).
    Raises ``RecordProblem("bad_media")`` for a missing, corrupt or truncated file or an index past the end.
    """
    wanted = _checked(indices)
    return _with_handle(path, backend, threads, lambda h: h.get(wanted))


def video_info(path: str | Path, backend: str = "auto") -> VideoInfo:
    """Frame count, frame rate and size, as the decoder that would read the file sees them."""
    return _with_handle(path, backend, 1, lambda h: h.info())[0]


def load_clip(path: str | Path, num_samples: int | None = 8, strategy: str = "uniform", *,
              seed: int | None = None, fps: float | None = None, backend: str = "auto",
              threads: int = 1) -> tuple[np.ndarray, list[int], VideoInfo]:
    """Open once, sample indices with :func:`sample_indices`, decode them: ``(frames, indices, info)``."""

    def work(handle):
        info = handle.info()
        check_frame_size(str(path), info.width, info.height)
        idx = sample_indices(info.num_frames, num_samples, strategy, seed=seed, fps=fps, video_fps=info.fps)
        return handle.get(idx), idx, info

    return _with_handle(path, backend, threads, work)[0]
