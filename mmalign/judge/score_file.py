"""`mmalign score`: several judges over a candidate file, resumably; scores kept per judge name.

    summary = score_candidates("cands/candidates.jsonl", ["oracle:noise=1"], "scored/")
    # scored/scored.jsonl: the candidate file with candidates[k]["scores"][judge name] filled in

One judge at a time over every record (`mmalign.data.part_files`): its scores go to
`OUT/parts/score-<k>.jsonl` as each record is judged (with the raw replies of generative judges, to see why
a reply gave no score), then `OUT/scored.jsonl` and `OUT/score_summary.json` are written. A candidate the
judge gave no score (a reply without one) keeps no score under that name and is counted per judge.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tqdm.auto import tqdm

from ..data.candidates import OnBadRecord, read_candidates
from ..data.part_files import claim_settings, finished_lines, part_path
from ..errors import MMAlignError
from ..io import JsonlAppender, remove_stale_temp_files, write_json_atomic, write_jsonl_atomic
from .spec import JudgeContext, JudgeSpec, build_judge, parse_judge_spec

SCORED_FILE = "scored.jsonl"
SUMMARY_FILE = "score_summary.json"


def _judge_part(spec: JudgeSpec, records: list[dict], path: Path, context: JudgeContext, progress: bool) -> None:
    done = finished_lines(path)
    todo = [r for r in records if r["id"] not in done]
    if not todo:
        return
    judge = build_judge(spec, context)
    # fsync: a judged record costs model calls, so each line is forced to disk.
    bar = tqdm(todo, desc=f"score {spec.name}", unit=" prompts", disable=not progress)
    with bar, JsonlAppender(path, fsync=True, fault="score-line") as part:  # the bar ends before an error
        for record in bar:
            (scores,) = judge.score([record])
            if len(scores) != len(record["candidates"]):
                raise MMAlignError(f"judge {spec.name} gave {len(scores)} scores for {len(record['candidates'])} "
                                   f"candidates of {record['id']!r}")
            line = {"id": record["id"], "judge": spec.name, "scores": scores}
            replies = getattr(judge, "replies", None)
            if replies:
                line["replies"] = replies[0]
            part.write(line)


def score_candidates(data: str | Path, judges: list[str], out: str | Path, *,
                     context: JudgeContext | None = None, on_bad_record: OnBadRecord = "error",
                     progress: bool = True) -> dict:
    """Score every candidate of `data` with each judge spec; returns the summary (also OUT/score_summary.json)."""
    if not judges:
        raise MMAlignError("give at least one --judge")
    context = context or JudgeContext()
    specs = [parse_judge_spec(j) for j in judges]
    names = [s.name for s in specs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise MMAlignError(f"two judges share the name {', '.join(twice)}: give one of them name=...")
    records, bad = read_candidates(data, on_bad_record)
    if not records:
        raise MMAlignError(f"{data}: no candidate records to score")
    out = Path(out)
    claim_settings(out, "score", {"data": str(data), "judges": [s.text for s in specs]})
    remove_stale_temp_files(out)  # an output a killed run was writing
    no_score: Counter = Counter()
    for k, spec in enumerate(specs):
        path = part_path(out, "score", k)
        _judge_part(spec, records, path, context, progress)
        done = finished_lines(path)
        for record in records:
            for candidate, value in zip(record["candidates"], done[record["id"]]["scores"]):
                if value is None:
                    no_score[spec.name] += 1
                    continue
                candidate["scores"] = {**candidate.get("scores", {}), spec.name: value}
    write_jsonl_atomic(out / SCORED_FILE, records)
    n = sum(len(r["candidates"]) for r in records)
    summary = {"records": len(records), "candidates": n,
               "judges": {s.name: {"spec": s.text, "scored": n - no_score[s.name], "no_score": no_score[s.name]}
                          for s in specs},
               "skipped_lines": dict(bad)}
    write_json_atomic(out / SUMMARY_FILE, summary)
    return summary
