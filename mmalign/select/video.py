"""PaMi-VDPO-style candidate clips and prompt-aware close-to-far selection.

    cands = make_candidates(frames, k=4, seed=7)                      # K perturbed clips, seeded
    d = prompt_aware_distance(logits_orig, logits_cands, answer_mask)  # [K] (JS by default)
    pick = choose(d, progress=step / (steps - 1), floor=0.01)          # Choice(index, kept, target)

Everything here is pure math on arrays and logits; running the model (on the reference, without
gradients) is the pair sampler's job (`mmalign.train.video_sampler`).

* **Candidates.** K perturbations drawn without replacement (with replacement when K exceeds the list)
  from `perturbations`, each with its own seed derived from `seed`. Temporal ones act on the clip's
  frame positions (`range(T)`), so the candidate reuses the decoded frames (no re-decoding); spatial
  ones act on the frames.
* **Distance** between the model's predictions of the fixed answer y given the original clip v and a
  candidate v~, averaged over y's tokens: `js` (default; Jensen-Shannon divergence of the next-token
  distributions, in nats, 0..ln 2), `kl` (KL(p_v || p_v~)), `logp_gap` (|log p(y_t | v) - log p(y_t | v~)|).
* **Floor.** Candidates with distance < `floor` are dropped as likely false rejections (the clip says the
  same thing under this prompt). When every candidate is below the floor the farthest is kept.
* **Close-to-far schedule.** Progress p in [0, 1] gives a target quantile q(p): `linear` q = p, `cosine`
  q = (1 - cos(pi p)) / 2, `constant_close` q = 0, `constant_far` q = 1. The kept candidates, sorted by
  distance, are picked at rank round(q (n - 1)): early the closest above the floor, late the farthest.
* **Weights** (aggregation `weighted`): w_k proportional to exp(-|rank_k / (n - 1) - q| * sharpness) on
  kept candidates, 0 on dropped ones, so the weight mass follows the same schedule.

Which choices are ours: all of them. The paper's abstract confirms only "a candidate set of augmented
clips" and "close-to-far selection"; a third-party summary says JS divergence of the model's outputs
(docs/research/video.md A.2-A.3). K, the perturbation list, the floor value, the quantile schedule and the
weights are our design.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import torch

from ..augment.video import PERTURBATIONS, perturb

DEFAULT_PERTURBATIONS = ("reverse", "shuffle", "segment_shuffle", "frame_drop", "speed_change",
                         "random_resized_crop", "flip", "gaussian_noise", "patch_mask", "grayscale")
METRICS = ("js", "kl", "logp_gap")
SCHEDULES = ("linear", "cosine", "constant_close", "constant_far")

__all__ = ["DEFAULT_PERTURBATIONS", "METRICS", "SCHEDULES", "Candidate", "Choice", "candidate_weights", "choose",
           "derive_seed", "make_candidates", "prompt_aware_distance", "schedule_quantile"]


@dataclass(frozen=True)
class Candidate:
    name: str  # the perturbation
    kind: str  # "temporal" | "spatial"
    seed: int
    frames: np.ndarray  # [T, H, W, 3] uint8


@dataclass(frozen=True)
class Choice:
    index: int  # the chosen candidate
    kept: np.ndarray  # [K] bool: at or above the floor
    quantile: float  # the schedule's target quantile at this progress


def derive_seed(*parts) -> int:
    """A stable 31-bit seed from any printable parts (run seed, step, record id, candidate)."""
    return zlib.crc32(":".join(str(p) for p in parts).encode()) & 0x7FFFFFFF


def make_candidates(frames: np.ndarray, k: int = 4, *, seed: int = 0,
                    perturbations: tuple[str, ...] | list[str] = DEFAULT_PERTURBATIONS,
                    params: dict[str, dict] | None = None) -> list[Candidate]:
    """K perturbed versions of one clip `frames` [T, H, W, 3] uint8; same seed, same candidates."""
    unknown = [n for n in perturbations if n not in PERTURBATIONS]
    if unknown or not perturbations:
        raise ValueError(f"unknown perturbation(s) {unknown}; valid: {', '.join(PERTURBATIONS)}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    rng = np.random.default_rng(seed)
    names = list(perturbations)
    picks = rng.choice(len(names), size=k, replace=k > len(names))
    params = params or {}
    out = []
    for j, i in enumerate(picks):
        name = names[int(i)]
        s = derive_seed(seed, j, name)
        spec = PERTURBATIONS[name]
        if spec.kind == "temporal":
            positions = perturb(name, list(range(len(frames))), seed=s, **params.get(name, {}))
            clip = frames[np.asarray(positions, dtype=np.int64)]
        else:
            clip = perturb(name, frames, seed=s, **params.get(name, {}))
        out.append(Candidate(name, spec.kind, s, np.ascontiguousarray(clip)))
    return out


def prompt_aware_distance(logits_orig: torch.Tensor, logits_cand: torch.Tensor, answer_mask: torch.Tensor,
                          metric: str = "js", answer_ids: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over answer tokens of the distance between next-token distributions.

    `logits_orig`, `logits_cand` [N, L, V] at the positions that predict the answer tokens (aligned),
    `answer_mask` [N, L] 1 where a position predicts an answer token. `logp_gap` needs `answer_ids`
    [N, L] (the predicted tokens). Returns [N] float32.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown distance {metric!r}; valid: {', '.join(METRICS)}")
    lp = torch.log_softmax(logits_orig.float(), -1)
    lq = torch.log_softmax(logits_cand.float(), -1)
    if metric == "js":
        lm = torch.logaddexp(lp, lq) - math.log(2.0)
        per = 0.5 * ((lp.exp() * (lp - lm)).sum(-1) + (lq.exp() * (lq - lm)).sum(-1))
    elif metric == "kl":
        per = (lp.exp() * (lp - lq)).sum(-1)
    else:
        if answer_ids is None:
            raise ValueError("distance 'logp_gap' needs answer_ids")
        idx = answer_ids.unsqueeze(-1)
        per = (lp.gather(-1, idx) - lq.gather(-1, idx)).squeeze(-1).abs()
    m = answer_mask.to(per.dtype)
    return (per.clamp(min=0) * m).sum(1) / m.sum(1).clamp(min=1)


def schedule_quantile(progress: float, schedule: str = "linear") -> float:
    """The target quantile (0 = closest kept candidate, 1 = farthest) at training progress in [0, 1]."""
    p = min(1.0, max(0.0, float(progress)))
    if schedule == "linear":
        return p
    if schedule == "cosine":
        return (1.0 - math.cos(math.pi * p)) / 2.0
    if schedule == "constant_close":
        return 0.0
    if schedule == "constant_far":
        return 1.0
    raise ValueError(f"unknown schedule {schedule!r}; valid: {', '.join(SCHEDULES)}")


def _ranked(distances, floor: float) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(distances, dtype=np.float64)
    kept = d >= floor
    if not kept.any():
        kept = d == d.max()  # nothing clears the floor: keep the farthest
    order = np.array([i for i in np.argsort(d, kind="stable") if kept[i]])
    return kept, order


def choose(distances, progress: float, *, floor: float = 0.01, schedule: str = "linear") -> Choice:
    """Pick one candidate: among those at or above `floor`, sorted close to far, the one at the
    schedule's quantile."""
    kept, order = _ranked(distances, floor)
    q = schedule_quantile(progress, schedule)
    return Choice(int(order[round(q * (len(order) - 1))]), kept, q)


def candidate_weights(distances, progress: float, *, floor: float = 0.01, schedule: str = "linear",
                      sharpness: float = 4.0) -> np.ndarray:
    """Weights [K] summing to 1 that follow the close-to-far schedule; 0 below the floor."""
    kept, order = _ranked(distances, floor)
    q = schedule_quantile(progress, schedule)
    w = np.zeros(len(kept))
    n = len(order)
    for rank, i in enumerate(order):
        pos = rank / (n - 1) if n > 1 else q
        w[i] = math.exp(-abs(pos - q) * sharpness)
    return w / w.sum()
