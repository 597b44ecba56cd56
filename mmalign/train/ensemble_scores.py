"""Every pair of a preference file scored by every reward model of an ensemble, into `scores.reward_models`.

    stats = score_pairs("pairs.jsonl", "data/", [m0 / "final", m1 / "final"], "out/scored.jsonl")

Each member is loaded with `mmalign.judge.load_reward` and scores a record's chosen and rejected answers under
the record's prompt and media (the judge renders them as the trainer does). The output is the input file's
records, every field kept, with `scores.reward_models = [[chosen, rejected] per member]` (replacing any
there), written atomically; the input file is never modified. Records whose rejected answer has other media or
another prompt (`rejected_images`, `rejected_videos`, `rejected_prompt`) are refused: one score per answer
under the record's own context would not be what those objectives compare.

Resumable: member k's scores go, one flushed line per record, to MEMBER/scores-<digest of the input>.jsonl
(the member's folder, so a retrained member starts again); a rerun scores only the records missing there.
"""

from __future__ import annotations

import math
from pathlib import Path

from tqdm.auto import tqdm

from ..data.candidates import message_text
from ..data.part_files import finished_lines
from ..data.reader import read_records
from ..data.schema import PreferenceRecord
from ..errors import DataError, MMAlignError
from ..io import JsonlAppender, write_jsonl_atomic
from .precompute import file_digest

CONTEXT_FIELDS = ("rejected_images", "rejected_videos", "rejected_prompt")


def candidate_record(rec: PreferenceRecord) -> dict:
    """The pair as a candidate record (docs/candidates.md): its prompt and media, candidates chosen, rejected."""
    return {"id": rec.id, "prompt": rec.prompt, "images": rec.images, "videos": rec.videos,
            "candidates": [{"text": message_text(rec.chosen)}, {"text": message_text(rec.rejected)}]}


def _check(records: list[PreferenceRecord]) -> None:
    for rec in records:
        other = [f for f in CONTEXT_FIELDS if getattr(rec, f)]
        if other:
            raise DataError(f"{rec.source}: has {', '.join(other)}; an ensemble scores the chosen and rejected "
                            "answers under the record's own prompt and media, so such records cannot be scored")


def _score_member(final: Path, k: int, records: list[PreferenceRecord], root: Path, part: Path,
                  video_frames: int, progress: bool) -> dict[str, dict]:
    done = finished_lines(part)
    todo = [i for i in range(len(records)) if str(i) not in done]
    if todo:
        import torch

        from ..judge import load_reward

        judge = load_reward(final, root=root, device="cuda" if torch.cuda.is_available() else "cpu",
                            video_frames=video_frames)
        with JsonlAppender(part) as out:
            for i in tqdm(todo, desc=f"score member {k}", unit=" pairs", disable=not progress):
                (scores,) = judge.score([candidate_record(records[i])])
                if len(scores) != 2 or any(s is None or not math.isfinite(s) for s in scores):
                    raise MMAlignError(f"{final}: reward model gave {scores!r} for {records[i].source}")
                out.write({"id": str(i), "record": records[i].id, "scores": scores})
        done = finished_lines(part)
    return done


def score_pairs(data: str | Path, root: str | Path, finals: list[Path], out: str | Path, *, video_frames: int = 8,
                progress: bool = True) -> dict:
    """Write `out` (see the module docstring); returns statistics of the ensemble's preference strength."""
    data, root = Path(data), Path(root)
    records, _ = read_records(data, root, "error")
    _check(records)
    digest = file_digest(data)[:16]
    per_member = []
    for k, final in enumerate(finals):
        done = _score_member(Path(final), k, records, root, Path(final).parent / f"scores-{digest}.jsonl",
                             video_frames, progress)
        per_member.append([done[str(i)]["scores"] for i in range(len(records))])
    rows, strengths, spreads, replaced = [], [], [], 0
    for i, rec in enumerate(records):
        row = dict(rec.raw)
        scores = dict(row.get("scores") or {})
        replaced += "reward_models" in scores
        scores["reward_models"] = [per_member[k][i] for k in range(len(finals))]
        row["scores"] = scores
        rows.append(row)
        diffs = [c - r for c, r in scores["reward_models"]]
        mean = sum(diffs) / len(diffs)
        strengths.append(mean)
        spreads.append(math.sqrt(sum((d - mean) ** 2 for d in diffs) / len(diffs)))
    write_jsonl_atomic(out, rows)
    if replaced:
        print(f"{data}: {replaced} record(s) already had scores.reward_models; {out} holds the new ones")
    n = len(records)
    agree = sum(len({c > r for c, r in row["scores"]["reward_models"]}) == 1 for row in rows)
    return {"records": n, "members": len(finals), "strength_mean": sum(strengths) / n,
            "strength_std_mean": sum(spreads) / n, "negative_strength_share": sum(s < 0 for s in strengths) / n,
            "members_agree_share": agree / n}
