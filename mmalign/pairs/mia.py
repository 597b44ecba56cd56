"""Build MIA-DPO preference pairs from LLaVA-format instruction data (docs/research/mia_dpo.md §1-3).

For every usable source row: build its multi-image sample (sequence, grid collage or pic-in-pic), corrupt
it the format's way, let the model answer greedily, read the answer's attention on the target with the
probe, and keep (chosen = ground truth, rejected = the answer) when the selector flags it. Writes
``OUT/images/``, ``OUT/pairs.jsonl`` and ``OUT/progress.jsonl`` (line by line; a row is done when its
progress line is written, so a rerun resumes with the output of an uninterrupted run) and
``OUT/summary.json``; with ``replay``, also ``OUT/replay.jsonl`` and ``OUT/replay/`` (replay.py).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..augment import Augmented, corrupt
from ..data.llava_source import read_llava
from ..data.schema import RecordProblem, as_messages
from ..io import JsonlAppender, remove_stale_temp_files, resume_jsonl, write_json_atomic, write_jsonl_atomic
from ..select import AttentionProbe, Selector
from .names import safe_name
from .plan import FORMATS, Plan, augment_plan, normalise_proportions, plan_rows
from .replay import is_yes_no, write_replay

# Drop reasons of rows the model never answers; every other drop reason is the selector's.
SKIPPED_BEFORE_ANSWERING = ("no_distractors", "answer_too_long", "yes_no_answer", "bad_image")


@dataclass(frozen=True)
class MiaConfig:
    """Build options; defaults follow the paper's code where it has one (docs/build-data.md)."""

    formats: tuple[str, ...] = FORMATS
    proportions: tuple[float, ...] | None = None  # aligned with formats; None: the paper's Table 8 mix
    seed: int = 0
    limit: int | None = None  # first N usable rows
    batch_size: int = 8
    max_new_tokens: int = 512  # paper: 512
    layer: int | None = None  # None: the middle decoder layer
    corrupt: bool = True  # noise before generating (collage cell 225, pic-in-pic 49; paper)
    cell: int = 448
    margin: int = 40
    max_answer_chars: int = 512  # paper skips ground truths of >= 512 characters
    image_ext: str = "png"
    progress: bool = True
    selector: Selector = field(default_factory=Selector)
    open_only: bool = False  # skip rows whose answer is a bare yes / no
    replay: int = 0  # single-image source rows also written to OUT/replay.jsonl (chosen = rejected)


def _record(plan: Plan, aug: Augmented, images: list[str], answer: str, decision, layer: int, corrupted: bool) -> dict:
    meta = {**aug.meta(), "attention_ratio": decision.ratio, "threshold": decision.threshold, "ppl": decision.ppl,
            "layer": layer, "corrupted": corrupted, "source_id": plan.row.id, "source_line": plan.row.line}
    return {
        "id": plan.row.id,
        "images": images,
        "prompt": as_messages(aug.prompt, "prompt", "user"),
        "chosen": [{"role": "assistant", "content": [{"type": "text", "text": plan.row.answer}]}],
        "rejected": [{"role": "assistant", "content": [{"type": "text", "text": answer}]}],
        "meta": meta,
    }


def _save_images(aug: Augmented, out: Path, row_id: str, ext: str) -> list[str]:
    rels = []
    for i, image in enumerate(aug.images):
        rel = f"images/{safe_name(row_id)}_{i}.{ext}"
        (out / "images").mkdir(parents=True, exist_ok=True)
        image.save(out / rel)
        rels.append(rel)
    return rels


def _skip_reason(plan: Plan, config: MiaConfig) -> str | None:
    """Why a row is dropped before the model answers it (SKIPPED_BEFORE_ANSWERING), or None."""
    if plan.n_images == 0:
        return "no_distractors"
    if len(plan.row.answer) >= config.max_answer_chars:
        return "answer_too_long"
    if config.open_only and is_yes_no(plan.row.answer):
        return "yes_no_answer"
    return None


def _drop_uncommitted_pairs(pairs_path: Path, done: set[str]) -> None:
    """A row's progress line is written after its pair: a pair without one (the run died between the two)
    is taken out of pairs.jsonl, and the row is built again."""
    pairs = resume_jsonl(pairs_path)
    kept = [rec for rec in pairs if rec.get("id") in done]
    if len(kept) != len(pairs):
        write_jsonl_atomic(pairs_path, kept)


def summarise(progress: Sequence[dict], bad_rows: Sequence, proportions: dict[str, float], config: MiaConfig) -> dict:
    kept = Counter(p["format"] for p in progress if p.get("kept"))
    planned = Counter(p["format"] for p in progress)
    drops = Counter(p["reason"] for p in progress if not p.get("kept"))
    return {
        "pairs": sum(kept.values()),
        "pairs_per_format": {f: kept.get(f, 0) for f in proportions},
        "processed": len(progress),
        "processed_per_format": {f: planned.get(f, 0) for f in proportions},
        "dropped": dict(sorted(drops.items())),
        "bad_rows": dict(sorted(Counter(b.reason for b in bad_rows).items())),
        "bad_row_lines": [{"line": b.line, "reason": b.reason} for b in bad_rows[:1000]],
        "proportions": proportions,
        "config": {k: v for k, v in asdict(config).items() if k != "selector"} | {"selector": repr(config.selector)},
    }


def summary_text(summary: dict, out: str | Path) -> str:
    """What a finished build says: pairs per format, drops and bad rows by reason, the files written."""
    per = ", ".join(f"{k}: {v}" for k, v in summary["pairs_per_format"].items())
    drops = ", ".join(f"{k}: {v}" for k, v in summary["dropped"].items()) or "none"
    bad = ", ".join(f"{k}: {v}" for k, v in summary["bad_rows"].items()) or "none"
    replay = f"; {summary['replay']} replay rows" if summary["replay"] else ""
    return (f"{summary['pairs']} pairs ({per}) from {summary['processed']} rows; dropped: {drops}; bad rows: {bad}"
            f"{replay}\nwrote {Path(out) / 'pairs.jsonl'} and {Path(out) / 'summary.json'}")


def build_mia(data: str | Path, root: str | Path, model: Any, out: str | Path, config: MiaConfig = MiaConfig(),
              *, log=None) -> dict:
    """Run (or resume) a build into ``out``; returns the summary. ``model``: a path, or a
    ``mmalign.models.Loaded``. ``log``: where bad rows are reported (default stderr)."""
    from ..models import generate, load

    log = log or (lambda msg: print(msg, file=sys.stderr))
    root, out = Path(root), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(out)  # a summary or replay file a killed run was writing
    rows, bad = read_llava(data, root)
    for b in bad:
        log(f"{data}:{b.line}: skipped ({b.reason}): {b.message}")
    proportions = normalise_proportions(config.formats, config.proportions)
    plans = plan_rows(rows, proportions, seed=config.seed)
    if config.limit is not None:
        plans = plans[:config.limit]
    pairs_path, progress_path = out / "pairs.jsonl", out / "progress.jsonl"
    progress = resume_jsonl(progress_path)
    done = {p["id"] for p in progress}
    _drop_uncommitted_pairs(pairs_path, done)
    pending = [p for p in plans if p.row.id not in done]
    loaded = load(model) if isinstance(model, (str, Path)) else model
    probe = AttentionProbe(loaded.model, loaded.processor, loaded.adapter, layer=config.layer)
    pairs_out = JsonlAppender(pairs_path, fault="build-data-line")
    progress_out = JsonlAppender(progress_path, fault="build-data-line")
    bar = tqdm(total=len(plans), initial=len(plans) - len(pending), disable=not config.progress, desc="build mia",
               unit="row")

    def finish(plan: Plan, kept: bool, reason: str | None, **extra) -> None:
        entry = {"id": plan.row.id, "line": plan.row.line, "format": plan.format, "n_images": plan.n_images,
                 "kept": kept, "reason": reason, **extra}
        progress_out.write(entry)
        progress.append(entry)
        bar.update(1)

    replayed = write_replay(rows, root, out, config.replay, config.seed) if config.replay else 0
    try:
        # Fixed chunks of the plan list: a resumed run answers a half-done chunk whole, padded as the first
        # run padded it, so every answer (and attention ratio) is the one an uninterrupted run gets.
        for start in range(0, len(plans), config.batch_size):
            chunk = plans[start:start + config.batch_size]
            if all(plan.row.id in done for plan in chunk):
                continue
            ready: list[tuple[Plan, Augmented, Augmented]] = []
            for plan in chunk:
                new = plan.row.id not in done
                skip = _skip_reason(plan, config)
                if skip:
                    if new:
                        finish(plan, False, skip)
                    continue
                try:
                    aug = augment_plan(plan, root, cell=config.cell, margin=config.margin)
                except (OSError, RecordProblem) as exc:
                    if new:
                        log(f"{data}:{plan.row.line}: unreadable image ({exc})")
                        finish(plan, False, "bad_image")
                    continue
                ready.append((plan, aug, corrupt(aug, seed=plan.seed) if config.corrupt else aug))
            if not any(plan.row.id not in done for plan, _, _ in ready):
                continue
            gens = generate(loaded.model, loaded.processor, [{"prompt": g.prompt, "images": list(g.images)}
                                                             for _, _, g in ready],
                            adapter=loaded.adapter, max_new_tokens=config.max_new_tokens,
                            batch_size=len(ready), return_logprobs=True)
            atts = probe.measure([g.prompt for _, _, g in ready], [list(g.images) for _, _, g in ready],
                                 [gen.token_ids for gen in gens])
            for (plan, aug, _), gen, att in zip(ready, gens, atts):
                if plan.row.id in done:
                    continue
                decision = config.selector.decide(aug, att, gen.text, plan.row.answer, gen.logprobs)
                if decision.keep:
                    images = _save_images(aug, out, plan.row.id, config.image_ext)
                    pairs_out.write(_record(plan, aug, images, gen.text, decision, probe.layer, config.corrupt))
                finish(plan, decision.keep, decision.reason, ratio=decision.ratio, threshold=decision.threshold)
    finally:
        bar.close()
        pairs_out.close()
        progress_out.close()
        summary = summarise(progress, bad, proportions, config) | {"replay": replayed}
        write_json_atomic(out / "summary.json", summary)
    return summary
