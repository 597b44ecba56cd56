"""`mmalign rubrics build`: a contrastive rubric per preference record, kept when a judge agrees with the label.

    summary = build_rubrics("pairs.jsonl", "runs/sft/final", "rubrics/", settings=RubricSettings(samples=4))
    # rubrics/rubrics.jsonl: {"id", "accepted", "reason", "attempts", "sample", "rubric": {"hard_rules",
    #                         "principles"}} per record, in input order; rubrics/rubrics_summary.json

Each record is worked on by `RubricMaker` (mmalign.rubrics.maker) and its line, with every attempt's raw
replies, appended to OUT/parts/rubrics-0.jsonl as it finishes (`mmalign.data.part_files`). A rerun of the
same command skips the records already there (a torn last line is dropped) and then writes rubrics.jsonl
and the summary; since each attempt's seed comes from (seed, id, sample), the files are byte for byte those
of an uninterrupted run.

Records are preference records (docs/data-format.md) with their images or videos. A record without an `id`
is named "line-N", as `mmalign generate` names it, so the rubric judge finds it in a candidate file made
from the same pairs. A record whose chosen and rejected texts are equal (pairs that differ only in their
images) has nothing to contrast: a bad record (file:line, or counted as `same_answers` when skipping).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tqdm.auto import tqdm

from ..data.candidates import OnBadRecord, message_text
from ..data.part_files import claim_settings, finished_lines, part_path
from ..data.reader import read_records
from ..data.schema import PreferenceRecord, RecordProblem
from ..errors import DataError, MMAlignError
from ..io import JsonlAppender, remove_stale_temp_files, write_json_atomic, write_jsonl_atomic
from ..judge.base import derived_seed
from ..judge.generative import load_template
from .maker import JUDGE_NEEDS, JUDGE_PROMPT, REASONS, WRITE_NEEDS, WRITE_PROMPT, RubricMaker

RUBRICS_FILE = "rubrics.jsonl"
SUMMARY_FILE = "rubrics_summary.json"
PUBLIC = ("id", "accepted", "reason", "attempts", "sample", "rubric")  # a part line without the raw replies


@dataclass(frozen=True)
class RubricSettings:
    """What decides the output (kept in OUT/parts/rubrics.json: a rerun with others is refused). The
    defaults are our choices where OpenRubrics publishes none (docs/data-quality.md, OpenRubrics)."""

    samples: int = 4  # rubric attempts per record at most (rejection sampling)
    seed: int = 0
    temperature: float = 0.7  # the writer samples, so that attempts differ
    top_p: float = 0.95
    max_new_tokens: int = 512
    judge_orders: int = 2  # 2: both orders, averaged; 1: one order, chosen first or second by seed
    judge_temperature: float = 0.0  # greedy: the verdict is the judge's best answer
    judge_samples: int = 1
    judge_max_new_tokens: int = 256
    batch_size: int = 8
    video_frames: int = 0
    rubric_prompt: str = ""  # a file replacing prompts/rubric_write.txt
    judge_prompt: str = ""  # a file replacing prompts/rubric_pairwise.txt

    def check(self) -> None:
        if min(self.samples, self.max_new_tokens, self.judge_samples, self.judge_max_new_tokens,
               self.batch_size) < 1:
            raise MMAlignError("--samples, --judge-samples, --max-new-tokens, --judge-max-new-tokens and "
                               "--batch-size must be at least 1")
        if self.temperature < 0 or self.judge_temperature < 0 or not 0 < self.top_p <= 1:
            raise MMAlignError("--temperature and --judge-temperature must be >= 0, --top-p in (0, 1]")
        if self.temperature == 0 and self.samples > 1:
            raise MMAlignError(f"--temperature 0 is greedy: --samples {self.samples} would write the same rubric "
                               f"{self.samples} times; use --samples 1 or sample (--temperature > 0)")
        if self.judge_temperature == 0 and self.judge_samples > 1:
            raise MMAlignError("--judge-samples above 1 needs --judge-temperature > 0 (greedy replies repeat)")
        if self.judge_orders not in (1, 2):
            raise MMAlignError(f"--judge-orders must be 1 or 2, got {self.judge_orders}")


def _pair(rec: PreferenceRecord) -> dict:
    line = rec.source.rpartition(":")[2]
    chosen, rejected = message_text(rec.chosen), message_text(rec.rejected)
    if chosen == rejected:
        raise RecordProblem("same_answers", "chosen and rejected have the same text: nothing for a rubric to "
                                            "contrast (pairs that differ only in their images need none)")
    return {"id": rec.id if "id" in rec.raw else f"line-{line}", "prompt": rec.prompt, "images": rec.images,
            "videos": rec.videos, "chosen": chosen, "rejected": rejected}


def read_pairs(data: Path, root: Path, on_bad_record: OnBadRecord) -> tuple[list[dict], Counter]:
    """The records to write rubrics for, media checked, and the count of skipped lines per reason."""
    records, bad = read_records(data, root, on_bad_record)
    pairs: list[dict] = []
    seen: set[str] = set()
    for rec in records:
        try:
            pair = _pair(rec)
            if pair["id"] in seen:
                raise RecordProblem("duplicate_id", f"id {pair['id']!r} appeared on an earlier line")
        except RecordProblem as problem:
            if on_bad_record == "error":
                raise DataError(f"{rec.source}: {problem.message}") from None
            bad.add(rec.source, problem)
            continue
        seen.add(pair["id"])
        pairs.append(pair)
    return pairs, bad.counts


def _templates(s: RubricSettings) -> tuple[str, str]:
    return (load_template(s.rubric_prompt or None, WRITE_PROMPT, WRITE_NEEDS),
            load_template(s.judge_prompt or None, JUDGE_PROMPT, JUDGE_NEEDS))


def load_maker(model: str, judge_model: str | None, root: Path, s: RubricSettings, device: str,
               dtype: str | None) -> RubricMaker:
    """The writer and the judge, loaded as the model judges are (one model in memory when they are the same)."""
    from ..judge.spec import JudgeContext, load_asker

    context = JudgeContext(root=root, device=device, dtype=dtype, video_frames=s.video_frames)
    writer = load_asker({"model": model, "samples": 1, "temperature": s.temperature, "top_p": s.top_p,
                     "max_new_tokens": s.max_new_tokens, "batch_size": s.batch_size, "seed": s.seed}, context)
    # The judge's own seed, so that a sampled judge does not draw with the writer's seeds.
    judging = {"samples": s.judge_samples, "temperature": s.judge_temperature, "top_p": 1.0,
               "max_new_tokens": s.judge_max_new_tokens, "seed": derived_seed(s.seed, "judge")}
    if judge_model and judge_model != model:
        judge = load_asker({"model": judge_model, "batch_size": s.batch_size, **judging}, context)
    else:
        judge = replace(writer, **judging)
    return RubricMaker(writer, judge, *_templates(s), samples=s.samples, orders=s.judge_orders)


def summarise(parts: list[dict], bad: Counter, settings: dict) -> dict:
    """Acceptance per record (a record's reason: its accepted attempt's, else its last attempt's) and per
    attempt, with the run's settings."""
    n = len(parts)
    per_record = Counter(p["reason"] for p in parts)
    per_attempt = Counter(t["reason"] for p in parts for t in p["tries"])
    tried = sum(per_attempt.values())
    return {"records": n, "accepted": per_record["accepted"],
            "acceptance_rate": round(per_record["accepted"] / n, 4) if n else None,
            "reasons": {r: per_record[r] for r in REASONS},
            "attempts": {"total": tried, **{r: per_attempt[r] for r in REASONS}},
            "attempt_acceptance_rate": round(per_attempt["accepted"] / tried, 4) if tried else None,
            **settings, "skipped_lines": dict(bad)}


def _work(todo: list[dict], path: Path, data: Path, load, progress: bool) -> None:
    maker = load()
    bar = tqdm(todo, desc="rubrics", unit=" records", disable=not progress)
    # fsync: a record costs several model calls; the bar closes before any error is printed.
    with bar, JsonlAppender(path, fsync=True, fault="rubric-line") as part:
        for record in bar:
            try:
                line = maker.make(record)
            except RecordProblem as problem:  # a video or image that fails to decode
                raise DataError(f"{data}: record {record['id']!r}: {problem.message}") from None
            part.write(line)


def build_rubrics(data: str | Path, model: str, out: str | Path, *, judge_model: str | None = None,
                  root: str | Path | None = None, settings: RubricSettings = RubricSettings(),
                  device: str = "auto", dtype: str | None = None, on_bad_record: OnBadRecord = "error",
                  progress: bool = True) -> dict:
    """Write OUT/rubrics.jsonl and OUT/rubrics_summary.json (resumably); returns the summary."""
    settings.check()
    _templates(settings)  # a bad prompt file stops the run before any model loads
    data, out = Path(data), Path(out)
    root = Path(root) if root is not None else data.parent
    records, bad = read_pairs(data, root, on_bad_record)
    if not records:
        raise MMAlignError(f"{data}: no preference records to write rubrics for")
    claimed = {"data": str(data), "model": model, "judge_model": judge_model or model, **asdict(settings)}
    claim_settings(out, "rubrics", claimed)
    remove_stale_temp_files(out)  # an output a killed run was writing
    path = part_path(out, "rubrics", 0)
    done = finished_lines(path)
    todo = [r for r in records if r["id"] not in done]
    if todo:  # a finished run loads no model
        _work(todo, path, data, lambda: load_maker(model, judge_model, root, settings, device, dtype), progress)
        done = finished_lines(path)
    parts = [done[r["id"]] for r in records]
    write_jsonl_atomic(out / RUBRICS_FILE, [{k: p[k] for k in PUBLIC} for p in parts])
    summary = summarise(parts, bad, claimed)
    write_json_atomic(out / SUMMARY_FILE, summary)
    return summary
