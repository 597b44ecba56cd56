"""Moving-shape videos with known truth, and small video QA preference datasets built from them.

A :class:`VideoScene` is one coloured shape on a dark background moving in a straight line
(left/right/up/down) across the frame, so "which way does it move?" has a known answer and the reversed
or mirrored clip has the opposite one. Videos are MP4 (H.264 via libx264, yuv420p) written with PyAV.
"""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ...io import temp_file_beside, write_jsonl_atomic
from .scenes import COLOURS, SHAPES, Scene, draw_scene

DIRECTIONS: tuple[str, ...] = ("left", "right", "up", "down")
OPPOSITE = {"left": "right", "right": "left", "up": "down", "down": "up"}
QUESTION_KINDS = ("direction", "colour", "shape")


@dataclass(frozen=True)
class VideoScene:
    """A shape of a colour moving in ``direction``: its centre goes from ``start`` to ``end`` along the
    motion axis (fractions of the frame side) at constant speed; ``across`` is the fixed centre on the
    other axis and ``size`` the half-extent."""

    shape: str
    colour: str
    direction: str
    size: float = 0.15
    across: float = 0.5
    start: float = 0.2
    end: float = 0.8

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"unknown shape {self.shape!r}; valid: {', '.join(SHAPES)}")
        if self.colour not in COLOURS:
            raise ValueError(f"unknown colour {self.colour!r}; valid: {', '.join(sorted(COLOURS))}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {self.direction!r}; valid: {', '.join(DIRECTIONS)}")

    def position(self, t: float) -> tuple[float, float]:
        """Centre (cx, cy) at time ``t`` in [0, 1]; image y grows downwards."""
        along = self.start + (self.end - self.start) * t
        if self.direction == "left":
            return 1.0 - along, self.across
        if self.direction == "right":
            return along, self.across
        if self.direction == "up":
            return self.across, 1.0 - along
        return self.across, along


def sample_video_scene(rng: random.Random) -> VideoScene:
    size = round(rng.uniform(0.1, 0.16), 3)
    return VideoScene(
        shape=rng.choice(SHAPES),
        colour=rng.choice(sorted(COLOURS)),
        direction=rng.choice(DIRECTIONS),
        size=size,
        across=round(rng.uniform(size + 0.05, 0.95 - size), 3),
        start=round(size + 0.02, 3),
        end=round(0.98 - size, 3),
    )


def render_video(scene: VideoScene, frames: int = 16, px: int = 64) -> np.ndarray:
    """The clip as a ``[frames, px, px, 3]`` uint8 RGB array (before compression)."""
    out = np.empty((frames, px, px, 3), dtype=np.uint8)
    for i in range(frames):
        cx, cy = scene.position(i / max(1, frames - 1))
        img = draw_scene(Scene(scene.shape, scene.colour, cx, cy, scene.size), px)
        out[i] = np.asarray(img, dtype=np.uint8)
    return out


def encode_mp4(path: str | Path, frames: np.ndarray, fps: int = 8, crf: int = 18) -> Path:
    """Write ``[T, H, W, 3]`` uint8 RGB frames as an H.264 MP4 (H, W even). Atomic: temp name, then rename.

    x264 does not always give the same bytes for the same frames on a loaded machine: 19 of 300 clips at
    64 px were encoded in more than one way (threads=1 and lookahead settings did not help), decoding
    to pixels up to 29 levels apart. Scenes, records and frames are always reproducible; results that
    read the clips (accuracies) repeat, margins may differ a little.
    """
    import av

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be [T, H, W, 3] uint8, got {frames.shape} {frames.dtype}")
    t, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"yuv420p needs even frame sizes, got {w}x{h}")
    path = Path(path)
    fd, tmp = temp_file_beside(path)  # the umask's mode, not mkstemp's 0600
    os.close(fd)
    try:
        # faststart: the index (moov) goes first, as in files prepared for streaming
        with av.open(tmp, "w", format="mp4", options={"movflags": "faststart"}) as container:
            stream = container.add_stream("libx264", rate=Fraction(fps))
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            stream.options = {"crf": str(crf), "preset": "veryfast"}
            stream.codec_context.thread_count = 1  # x264 output then does not depend on the machine
            stream.codec_context.time_base = Fraction(1, fps)
            for i in range(t):
                frame = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
                frame.pts, frame.time_base = i, Fraction(1, fps)
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_video(path: str | Path, scene_spec: VideoScene, frames: int = 16, px: int = 64,
                fps: int = 8) -> Path:
    """Render ``scene_spec`` and write it as an MP4 at ``path``; returns the path."""
    return encode_mp4(path, render_video(scene_spec, frames, px), fps=fps)


def _question(scene: VideoScene, kind: str, rng: random.Random) -> tuple[str, str, str]:
    """(question, true answer, wrong answer) for one question kind."""
    name = f"{scene.colour} {scene.shape}"
    if kind == "direction":
        return (f"Which way does the {name} move?", f"{scene.direction.capitalize()}.",
                f"{OPPOSITE[scene.direction].capitalize()}.")
    if kind == "colour":
        wrong = rng.choice([c for c in sorted(COLOURS) if c != scene.colour])
        return (f"What colour is the moving {scene.shape}?", f"{scene.colour.capitalize()}.",
                f"{wrong.capitalize()}.")
    if kind == "shape":
        wrong = rng.choice([s for s in SHAPES if s != scene.shape])
        return ("What shape is moving?", f"A {scene.shape}.", f"A {wrong}.")
    raise ValueError(f"unknown question kind {kind!r}; valid: {', '.join(QUESTION_KINDS)}")


def write_video_dataset(root: str | Path, *, seed: int, count: int, frames: int = 16, px: int = 64,
                        fps: int = 8, kinds: tuple[str, ...] = ("direction",),
                        name: str = "video_pairs.jsonl") -> Path:
    """Write ``count`` moving-shape MP4s under ``root/vid/`` and a preference JSONL at ``root/name``.

    Each record: ``{"id", "videos": ["vid/x.mp4"], "prompt": "<video>\\n<question>", "chosen": true
    answer, "rejected": a wrong one, "meta": {...scene, "kind", "frames", "fps", "px"}}``. Direction
    questions are rejected with the opposite direction (the answer the reversed clip would have).
    Everything follows from ``seed``; kinds cycle through ``kinds``. Returns the JSONL path.
    """
    for kind in kinds:
        if kind not in QUESTION_KINDS:
            raise ValueError(f"unknown question kind {kind!r}; valid: {', '.join(QUESTION_KINDS)}")
    root = Path(root)
    rng = random.Random(seed)
    records = []
    for i in range(count):
        scene = sample_video_scene(rng)
        kind = kinds[i % len(kinds)]
        question, answer, wrong = _question(scene, kind, rng)
        rel = f"vid/synth-{seed}-{i}.mp4"
        write_video(root / rel, scene, frames=frames, px=px, fps=fps)
        records.append({
            "id": f"synth-video-{seed}-{i}",
            "videos": [rel],
            "prompt": f"<video>\n{question}",
            "chosen": answer,
            "rejected": wrong,
            "meta": {"kind": kind, **asdict(scene), "frames": frames, "fps": fps, "px": px},
        })
    path = root / name
    write_jsonl_atomic(path, records)
    return path
