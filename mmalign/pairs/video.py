"""Offline VDPO records: each video record gets `rejected_videos`, perturbed clips encoded to MP4.

    build_video_pairs("pairs.jsonl", root, out, perturbations=("reverse", "shuffle"), seed=0)

For every record with videos, `num_frames` frames are decoded (uniform), the original clip is re-encoded
to `OUT/vid/<id>-<j>.mp4` (so chosen and rejected share frame count and codec settings) and one
perturbation, drawn per record from `perturbations` with a seed derived from (seed, id), is encoded to
`OUT/vid/<id>-<j>-<name>.mp4`. Written records keep every field, with `videos` and `rejected_videos`
pointing into OUT and `meta.video_perturbation` naming the perturbation. Records without videos or with
bad media are skipped and counted, each reported with its file and line (`log`, default stderr); the
decoders' own log lines are kept off the terminal. A missing, folder or empty data file is a DataError
before anything is written. The JSONL (`OUT/video_pairs.jsonl`) is flushed line by line; a rerun
reuses finished records (a torn last line is dropped).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from ..data.reader import iter_record_lines
from ..data.schema import RecordProblem, parse_record, resolve_media
from ..data.synth.video import encode_mp4
from ..data.video import load_clip
from ..data.video_backends import native_stderr_silenced
from ..io import JsonlAppender, check_data_file, remove_stale_temp_files, resume_jsonl
from ..select.video import derive_seed, make_candidates

DEFAULT_OFFLINE = ("reverse", "shuffle", "segment_shuffle", "flip", "random_resized_crop")


def build_video_pairs(data: str | Path, root: str | Path, out: str | Path, *, perturbations=DEFAULT_OFFLINE,
                      num_frames: int = 8, seed: int = 0, fps: int = 8, limit: int = 0,
                      name: str = "video_pairs.jsonl", log=None) -> tuple[Path, Counter]:
    """Write the records; returns (JSONL path, counts: written, reused and a count per skip reason)."""
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    data = check_data_file(data)
    root, out = Path(root), Path(out)
    (out / "vid").mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(out)  # clips a killed run was writing
    target = out / name
    done = {row.get("id") for row in resume_jsonl(target)}
    counts: Counter = Counter()
    with JsonlAppender(target, fault="build-data-line") as appender:
        for lineno, obj in iter_record_lines(data):
            if limit and counts["written"] + counts["reused"] >= limit:
                break
            try:
                if isinstance(obj, RecordProblem):
                    raise obj
                rec = parse_record(obj, lineno)
                if not rec.videos:
                    raise RecordProblem("no_video", "record has no videos")
                if rec.id in done:
                    counts["reused"] += 1
                    continue
                stem = re.sub(r"[^A-Za-z0-9_.-]", "_", rec.id)
                chosen, rejected, used = [], [], None
                for j, rel in enumerate(rec.videos):
                    frames = _decode(resolve_media(root, rel), rel, num_frames)
                    cand = make_candidates(frames, 1, seed=derive_seed(seed, rec.id, j),
                                           perturbations=perturbations)[0]
                    used = cand.name
                    chosen.append(f"vid/{stem}-{j}.mp4")
                    rejected.append(f"vid/{stem}-{j}-{cand.name}.mp4")
                    encode_mp4(out / chosen[-1], frames, fps=fps)
                    encode_mp4(out / rejected[-1], cand.frames, fps=fps)
            except RecordProblem as problem:
                counts[problem.reason] += 1
                if problem.reason != "no_video":
                    log(f"{data}:{lineno}: skipped ({problem.reason}): {problem.message}")
                continue
            row = {**obj, "videos": chosen, "rejected_videos": rejected}
            row.pop("video", None)
            row["meta"] = {**(obj.get("meta") or {}), "video_perturbation": used, "video_frames": num_frames}
            appender.write(row)
            counts["written"] += 1
    return target, counts


def _decode(path: Path, rel: str, num_frames: int):
    """`num_frames` uniform frames; a file that is no video is RecordProblem("bad_media") naming `rel`."""
    try:
        with native_stderr_silenced():  # decord/FFmpeg print their own lines on a file they cannot open
            frames, _, _ = load_clip(path, num_frames, "uniform")
    except RecordProblem as exc:
        raise RecordProblem(exc.reason, f"video {rel!r}: {exc.message}") from None
    return frames
