"""Video clip perturbations: pure, seeded, tagged ``temporal`` or ``spatial``.

Used to make rejected clips (VDPO: same answer, perturbed video). Temporal perturbations act on the
clip's frame *indices* (``list[int] -> list[int]``, values drawn from the input), so a perturbed clip is
decoded once with the new indices and nothing is re-decoded. Spatial perturbations act on a frames array
``[T, H, W, 3]`` uint8 and return a new array of the same shape and dtype; the same random draw applies
to every frame (one crop, one jitter, one mask per clip), so the clip stays temporally coherent.

    PERTURBATIONS["reverse"]([0, 1, 2, 3])                    # [3, 2, 1, 0]
    perturb("segment_shuffle", idx, seed=3, segments=4)
    perturb("gaussian_noise", frames, seed=0, std=25.0)

Every call builds its own ``numpy.random.default_rng(seed)``: same seed, same output; inputs are never
modified. An unknown parameter raises ``ValueError`` listing the valid ones.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

KINDS = ("temporal", "spatial")


# ----------------------------------------------------------------------------------- temporal (indices)

def _changed_permutation(n: int, rng: np.random.Generator, tries: int = 10) -> np.ndarray:
    """A random permutation of range(n) that is not the identity when n > 1 (no silent no-op)."""
    for _ in range(tries):
        perm = rng.permutation(n)
        if n < 2 or not np.array_equal(perm, np.arange(n)):
            return perm
    return np.roll(np.arange(n), 1)


def reverse(indices: list[int], rng: np.random.Generator) -> list[int]:
    """Play the clip backwards."""
    return list(indices[::-1])


def shuffle(indices: list[int], rng: np.random.Generator) -> list[int]:
    """Random order of all frames (never the original order when there are 2+ frames)."""
    return [indices[j] for j in _changed_permutation(len(indices), rng)]


def segment_shuffle(indices: list[int], rng: np.random.Generator, segments: int = 4) -> list[int]:
    """Cut into ``segments`` contiguous pieces (``numpy.array_split`` sizes) and permute the pieces."""
    pieces = [list(p) for p in np.array_split(np.asarray(indices, dtype=np.int64), min(segments, len(indices)))]
    order = _changed_permutation(len(pieces), rng)
    return [int(i) for j in order for i in pieces[j]]


def frame_drop(indices: list[int], rng: np.random.Generator, rate: float = 0.5,
               keep_length: bool = True) -> list[int]:
    """Drop ``round(rate * T)`` random frames (at least one kept). With ``keep_length`` the kept frames
    are stretched back to T (each held for a while), so the clip jumps instead of getting shorter."""
    t = len(indices)
    n_keep = max(1, t - round(rate * t))
    kept = np.sort(rng.choice(t, size=n_keep, replace=False))
    if not keep_length:
        return [indices[j] for j in kept]
    stretch = np.floor(np.arange(t) * n_keep / t).astype(np.int64)
    return [indices[kept[j]] for j in stretch]


def frame_repeat(indices: list[int], rng: np.random.Generator, rate: float = 0.25) -> list[int]:
    """Stutter: ``round(rate * T)`` random positions (never the first) show the previous frame again."""
    t = len(indices)
    out = list(indices)
    n = min(t - 1, round(rate * t))
    if n <= 0:
        return out
    for pos in np.sort(rng.choice(np.arange(1, t), size=n, replace=False)):
        out[pos] = out[pos - 1]
    return out


def freeze(indices: list[int], rng: np.random.Generator, fraction: float = 0.5) -> list[int]:
    """Hold one frame for a contiguous run of ``max(2, round(fraction * T))`` positions at a random start."""
    t = len(indices)
    length = min(t, max(2, round(fraction * t)))
    start = int(rng.integers(0, t - length + 1))
    return indices[:start] + [indices[start]] * length + indices[start + length:]


def speed_change(indices: list[int], rng: np.random.Generator, factor: float = 2.0) -> list[int]:
    """Resample the clip's timeline ``factor`` times faster (> 1) or slower (< 1), same length.

    Output position i shows input position ``floor(offset + i * factor)``. Faster: offset 0, positions
    past the end hold the last frame. Slower: a random offset so the slowed window lies inside the clip.
    """
    if factor <= 0:
        raise ValueError(f"factor must be > 0, got {factor}")
    t = len(indices)
    span = (t - 1) * factor
    offset = float(rng.uniform(0, (t - 1) - span)) if span < t - 1 else 0.0
    pos = np.minimum(np.floor(offset + np.arange(t) * factor + 1e-9).astype(np.int64), t - 1)
    return [indices[j] for j in pos]


# ------------------------------------------------------------------------------------ spatial (frames)

def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _luma(frames: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma, float32 [T, H, W]."""
    return frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def random_resized_crop(frames: np.ndarray, rng: np.random.Generator, scale: tuple = (0.01, 0.2),
                        ratio: tuple = (3 / 4, 4 / 3)) -> np.ndarray:
    """One random box (area fraction in ``scale``, aspect in ``ratio``) cropped from every frame and
    resized back to H x W (bilinear). Whole frame if 10 draws find no box that fits."""
    h, w = frames.shape[1:3]
    box = (0, 0, w, h)
    for _ in range(10):
        area = h * w * rng.uniform(*scale)
        aspect = np.exp(rng.uniform(np.log(ratio[0]), np.log(ratio[1])))
        bw, bh = round(np.sqrt(area * aspect)), round(np.sqrt(area / aspect))
        if 0 < bw <= w and 0 < bh <= h:
            x0, y0 = int(rng.integers(0, w - bw + 1)), int(rng.integers(0, h - bh + 1))
            box = (x0, y0, x0 + bw, y0 + bh)
            break
    return np.stack([np.asarray(Image.fromarray(f).resize((w, h), Image.BILINEAR, box=box)) for f in frames])


def flip(frames: np.ndarray, rng: np.random.Generator, axis: str = "horizontal") -> np.ndarray:
    """Mirror every frame left-right (``horizontal``) or top-bottom (``vertical``)."""
    if axis not in ("horizontal", "vertical"):
        raise ValueError(f"axis must be 'horizontal' or 'vertical', got {axis!r}")
    return np.ascontiguousarray(frames[:, :, ::-1] if axis == "horizontal" else frames[:, ::-1])


def gaussian_noise(frames: np.ndarray, rng: np.random.Generator, std: float = 25.0) -> np.ndarray:
    """Add independent N(0, std^2) noise (pixel units, 0..255) to every value, then clip."""
    return _to_uint8(frames.astype(np.float32) + rng.normal(0.0, std, frames.shape).astype(np.float32))


def blur(frames: np.ndarray, rng: np.random.Generator, sigma: float = 2.0) -> np.ndarray:
    """Gaussian blur of each frame (separable kernel, radius ceil(3 sigma), reflected borders)."""
    if sigma <= 0:
        return frames.copy()
    r = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2).astype(np.float32)
    k /= k.sum()
    x = frames.astype(np.float32)
    for axis in (1, 2):
        pad = [(0, 0)] * 4
        pad[axis] = (r, r)
        p = np.pad(x, pad, mode="reflect" if frames.shape[axis] > r else "edge")
        n = frames.shape[axis]
        x = sum(k[j] * np.take(p, np.arange(j, j + n), axis=axis) for j in range(2 * r + 1))
    return _to_uint8(x)


def patch_mask(frames: np.ndarray, rng: np.random.Generator, patch: int = 16, ratio: float = 0.5,
               fill: int = 0, per_frame: bool = False) -> np.ndarray:
    """Paint ``round(ratio * cells)`` random cells of a ``patch``-pixel grid with ``fill``: the same
    cells in every frame ("tube" masking), or new cells per frame with ``per_frame``."""
    t, h, w, _ = frames.shape
    gh, gw = -(-h // patch), -(-w // patch)
    n = round(ratio * gh * gw)
    out = frames.copy()
    for i in range(t if per_frame else 1):
        cells = rng.choice(gh * gw, size=n, replace=False)
        mask = np.zeros(gh * gw, dtype=bool)
        mask[cells] = True
        pix = np.kron(mask.reshape(gh, gw), np.ones((patch, patch), dtype=bool))[:h, :w]
        if per_frame:
            out[i][pix] = fill
        else:
            out[:, pix] = fill
    return out


def colour_jitter(frames: np.ndarray, rng: np.random.Generator, brightness: float = 0.4,
                  contrast: float = 0.4, saturation: float = 0.4, hue: float = 0.1) -> np.ndarray:
    """One random colour change for the whole clip, applied in a fixed order: brightness x U(1 +- b),
    contrast towards each frame's mean grey x U(1 +- c), saturation towards grey x U(1 +- s), hue
    rotated by U(+- hue) of a full turn (in YIQ space)."""
    x = frames.astype(np.float32)
    x = x * rng.uniform(1 - brightness, 1 + brightness)
    c = rng.uniform(1 - contrast, 1 + contrast)
    mean = np.clip(_luma(x), 0, 255).mean(axis=(1, 2), keepdims=True)[..., None]
    x = np.clip(mean + (np.clip(x, 0, 255) - mean) * c, 0, 255)
    s = rng.uniform(1 - saturation, 1 + saturation)
    grey = _luma(x)[..., None]
    x = np.clip(grey + (x - grey) * s, 0, 255)
    angle = rng.uniform(-hue, hue) * 2 * np.pi
    to_yiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], np.float32)
    rot = np.array([[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]],
                   np.float32)
    m = np.linalg.inv(to_yiq) @ rot @ to_yiq
    return _to_uint8(x @ m.T.astype(np.float32))


def grayscale(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """BT.601 luma copied to all three channels."""
    return np.repeat(_to_uint8(_luma(frames))[..., None], 3, axis=-1)


def other_video(frames: np.ndarray, rng: np.random.Generator, other: np.ndarray | None = None,
                fraction: float = 1.0) -> np.ndarray:
    """Frames from another clip: ``other`` ([T2, H, W, 3] uint8, same H x W) is resampled to T frames
    (uniform), and a contiguous run of ``max(1, round(fraction * T))`` frames at a random start is
    taken from it (``fraction=1``: the whole clip is the other video)."""
    if other is None:
        raise ValueError("perturbation 'other_video' needs other=<frames of another video>")
    other = np.asarray(other)
    t, h, w, _ = frames.shape
    if other.ndim != 4 or other.shape[1:] != (h, w, 3) or other.dtype != np.uint8 or not len(other):
        raise ValueError(f"other must be [T2, {h}, {w}, 3] uint8, got {other.shape} {other.dtype}")
    src = other[np.linspace(0, len(other) - 1, t).astype(np.int64)]
    n = min(t, max(1, round(fraction * t)))
    start = int(rng.integers(0, t - n + 1))
    out = frames.copy()
    out[start:start + n] = src[start:start + n]
    return out


# -------------------------------------------------------------------------------------------- registry

@dataclass(frozen=True)
class Perturbation:
    """One perturbation: ``kind`` (``temporal``: indices -> indices; ``spatial``: frames -> frames),
    ``fn(x, rng, **params)``, and its parameters' defaults (read from ``fn``'s signature)."""

    name: str
    kind: str
    fn: Callable[..., Any]
    defaults: dict[str, Any] = field(default_factory=dict)

    def __call__(self, x, *, seed: int = 0, **params):
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            valid = ", ".join(sorted(self.defaults)) or "none"
            raise ValueError(f"perturbation {self.name!r} has no parameter(s) {', '.join(unknown)}; "
                             f"valid: {valid}")
        rng = np.random.default_rng(seed)
        if self.kind == "temporal":
            idx = [int(i) for i in x]
            if not idx:
                raise ValueError(f"perturbation {self.name!r} needs at least one frame index")
            return [int(i) for i in self.fn(idx, rng, **params)]
        frames = np.asarray(x)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"perturbation {self.name!r} needs frames [T, H, W, 3] uint8, got "
                             f"{frames.shape} {frames.dtype}")
        return self.fn(frames, rng, **params)


def _entry(name: str, kind: str, fn: Callable[..., Any]) -> Perturbation:
    params = list(inspect.signature(fn).parameters.values())[2:]
    return Perturbation(name, kind, fn, {
        p.name: (None if p.default is inspect.Parameter.empty else p.default) for p in params})


PERTURBATIONS: dict[str, Perturbation] = {e.name: e for e in [
    _entry("reverse", "temporal", reverse),
    _entry("shuffle", "temporal", shuffle),
    _entry("segment_shuffle", "temporal", segment_shuffle),
    _entry("frame_drop", "temporal", frame_drop),
    _entry("frame_repeat", "temporal", frame_repeat),
    _entry("freeze", "temporal", freeze),
    _entry("speed_change", "temporal", speed_change),
    _entry("random_resized_crop", "spatial", random_resized_crop),
    _entry("flip", "spatial", flip),
    _entry("gaussian_noise", "spatial", gaussian_noise),
    _entry("blur", "spatial", blur),
    _entry("patch_mask", "spatial", patch_mask),
    _entry("colour_jitter", "spatial", colour_jitter),
    _entry("grayscale", "spatial", grayscale),
    _entry("other_video", "spatial", other_video),
]}

TEMPORAL = tuple(n for n, p in PERTURBATIONS.items() if p.kind == "temporal")
SPATIAL = tuple(n for n, p in PERTURBATIONS.items() if p.kind == "spatial")


def perturb(name: str, x, *, seed: int = 0, **params):
    """Apply the perturbation ``name`` to indices (temporal) or frames (spatial)."""
    if name not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {name!r}; valid: {', '.join(PERTURBATIONS)}")
    return PERTURBATIONS[name](x, seed=seed, **params)
