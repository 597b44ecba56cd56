"""Video pipeline throughput: decoded (+ perturbed) frames per second, decord vs PyAV, on synthetic clips.

Each row times, for one backend and one perturbation, ``repeats`` passes over ``videos`` synthetic MP4s:
sample ``samples`` uniform indices, apply the temporal perturbation to the indices (if any), decode with
:func:`mmalign.data.video.read_frames`, apply the spatial perturbation to the frames (if any). The
decoder is opened for every clip, as a DataLoader worker would. Row ``none`` is decoding alone. Each
row reports the median pass; small clips on a shared machine are noisy, so raise ``repeats`` to compare.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from ..augment.video import PERTURBATIONS, perturb
from ..data.schema import RecordProblem
from ..data.synth.video import sample_video_scene, write_video
from ..data.video import BACKENDS, available_backends, read_frames, sample_indices


def _write_clips(folder: Path, videos: int, frames: int, px: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    return [write_video(folder / f"bench-{i}.mp4", sample_video_scene(rng), frames=frames, px=px)
            for i in range(videos)]


def _time_row(paths: list[Path], others: list, backend: str, name: str | None, samples: int,
              frames: int, repeats: int, threads: int, seed: int) -> dict:
    kind = PERTURBATIONS[name].kind if name else "-"
    base = sample_indices(frames, samples, "uniform")
    count, passes = 0, []
    for r in range(repeats):
        start = time.perf_counter()
        for v, path in enumerate(paths):
            s = seed + 1000 * r + v
            idx = perturb(name, base, seed=s) if kind == "temporal" else base
            clip, _ = read_frames(path, idx, backend, threads=threads)
            if kind == "spatial":
                extra = {"other": others[v]} if name == "other_video" else {}
                clip = perturb(name, clip, seed=s, **extra)
            count += len(clip)
        passes.append(time.perf_counter() - start)
    per_pass = count / repeats
    median = sorted(passes)[len(passes) // 2]
    return {"backend": backend, "perturbation": name or "none", "kind": kind, "frames": count,
            "seconds": round(sum(passes), 6), "fps": round(per_pass / max(median, 1e-9), 1),
            "fps_best": round(per_pass / max(min(passes), 1e-9), 1)}


def run_video_bench(videos: int = 4, frames: int = 16, px: int = 64, samples: int = 8, repeats: int = 3,
                    backends: tuple[str, ...] = BACKENDS, perturbations: tuple[str, ...] | None = None,
                    threads: int = 1, seed: int = 0, workdir: str | Path | None = None) -> dict:
    """Time decoding and each perturbation; returns ``{"config", "rows", "skipped_backends",
    "failed_backends", "decode_speedup"}``. ``rows``: one dict per (backend, perturbation) with ``frames``, ``seconds``,
    ``fps`` (frames per pass over the median pass time; ``fps_best``: over the fastest pass; the
    machine's noise shows in the gap). ``decode_speedup``: decord's decode-only fps over PyAV's (when both ran). Backends that are
    not installed are listed in ``skipped_backends``; one that cannot decode the clips, with its
    message, in ``failed_backends``. Videos go to ``workdir`` (a temporary folder by
    default, removed afterwards)."""
    names = list(PERTURBATIONS) if perturbations is None else list(perturbations)
    for n in names:
        if n not in PERTURBATIONS:
            raise ValueError(f"unknown perturbation {n!r}; valid: {', '.join(PERTURBATIONS)}")
    for b in backends:
        if b not in BACKENDS:
            raise ValueError(f"unknown video backend {b!r}; valid: {', '.join(BACKENDS)}")
    installed = available_backends()
    use = [b for b in backends if b in installed]
    config = {"videos": videos, "frames": frames, "px": px, "samples": samples, "repeats": repeats,
              "threads": threads, "seed": seed, "backends": use, "perturbations": names}
    rows: list[dict] = []
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="mmalign-bench-video-") as tmp:
        folder = Path(workdir) if workdir is not None else Path(tmp)
        paths = _write_clips(folder, videos, frames, px, seed)
        for backend in use:
            # untimed warm-up pass (codec set-up, file cache), which also gives each clip its "other
            # video" frames: the next clip's
            idx = sample_indices(frames, samples, "uniform")
            try:
                _time_row(paths, [], backend, None, samples, frames, 1, threads, seed)
            except RecordProblem as exc:  # e.g. decord 0.6.0 fails on some frame sizes (16, 24, 48 px)
                failed[backend] = exc.message
                continue
            others = [read_frames(paths[(v + 1) % len(paths)], idx, backend)[0] for v in range(len(paths))]
            for name in [None, *names]:
                rows.append(_time_row(paths, others, backend, name, samples, frames, repeats, threads, seed))
    decode = {r["backend"]: r["fps"] for r in rows if r["perturbation"] == "none"}
    speedup = round(decode["decord"] / decode["pyav"], 2) if {"decord", "pyav"} <= set(decode) else None
    config["backends"] = [b for b in use if b not in failed]
    return {"config": config, "rows": rows, "skipped_backends": [b for b in backends if b not in use],
            "failed_backends": failed, "decode_speedup": speedup}


def format_table(result: dict) -> str:
    """The rows as a plain-text table, decord and PyAV side by side."""
    cfg = result["config"]
    backends = cfg["backends"]
    lines = [(f"video bench: {cfg['videos']} clips x {cfg['repeats']} passes, {cfg['samples']} of "
             f"{cfg['frames']} frames at {cfg['px']}x{cfg['px']}, {cfg['threads']} decoder thread(s)"),
             ""]
    header = f"{'perturbation':<20} {'kind':<9}" + "".join(f" {b + ' fr/s':>13}" for b in backends)
    lines += [header, "-" * len(header)]
    fps = {(r["backend"], r["perturbation"]): r for r in result["rows"]}
    for name in ["none", *cfg["perturbations"]]:
        kind = PERTURBATIONS[name].kind if name in PERTURBATIONS else "-"
        lines.append(f"{name:<20} {kind:<9}" + "".join(f" {fps[(b, name)]['fps']:>13.1f}" for b in backends))
    if result["decode_speedup"] is not None:
        lines += ["", f"decode only: decord is {result['decode_speedup']}x PyAV"]
    if result["skipped_backends"]:
        lines.append(f"not installed (skipped): {', '.join(result['skipped_backends'])}")
    for backend, message in result.get("failed_backends", {}).items():
        lines.append(f"{backend} failed on these clips: {message}")
    return "\n".join(lines)
