"""`mmalign generate`: N sampled answers per prompt from one or several models, into a candidate file.

    summary = generate_candidates("prompts.jsonl", ["runs/sft/final"], "cands/", root="data", n=4)
    # cands/candidates.jsonl: one line per prompt, "candidates": [{"text", "model", "sample", "seed"}, ...]

Each sampled answer has its own seed, derived from (seed, prompt id, sample), and is drawn in its own
`mmalign.models.generate` call, so a resumed run (or a run with more prompts) draws the same text. With
temperature 0 (greedy, n = 1) prompts are batched in fixed chunks of the prompt list, so a rerun pads them
the same way. Models run one after another (`mmalign.data.part_files`): OUT/parts/generate-<k>.jsonl
grows a line per prompt, and OUT/candidates.jsonl (model order, then sample order) is written at the end.
COIG-P generates with many models this way (several --model values).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tqdm.auto import tqdm

from ..data.candidates import OnBadRecord, read_prompts
from ..data.media_inputs import generation_input
from ..data.part_files import claim_settings, finished_lines, part_path
from ..data.schema import RecordProblem, resolve_media
from ..errors import DataError, MMAlignError
from ..io import JsonlAppender, remove_stale_temp_files, write_json_atomic, write_jsonl_atomic
from ..judge.base import derived_seed

CANDIDATES_FILE = "candidates.jsonl"
SUMMARY_FILE = "generate_summary.json"


def _media_ok(record: dict, root: Path) -> None:
    for rel in (record.get("images") or []) + (record.get("videos") or []):
        if not resolve_media(root, rel).is_file():
            raise RecordProblem("missing_media", f"media file {rel!r} not found under {str(root)!r}")


def _checked_prompts(data: Path, root: Path, on_bad_record: OnBadRecord) -> tuple[list[dict], Counter]:
    prompts, bad = read_prompts(data, on_bad_record)
    kept = []
    for record in prompts:
        try:
            _media_ok(record, root)
        except RecordProblem as problem:
            if on_bad_record == "error":
                raise DataError(f"{data}: record {record['id']!r}: {problem.message}") from None
            bad[problem.reason] += 1
            continue
        kept.append(record)
    return kept, bad


class _Sampler:
    """One loaded model answering prompt records (sampled with per-answer seeds, or greedy in chunks)."""

    def __init__(self, model_path: str, root: Path, settings: dict, device: str, dtype: str | None):
        import torch

        from ..models import load
        from ..models.generate import takes_videos

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.name, self.root, self.s = model_path, root, settings
        self.loaded = load(model_path, dtype=dtype, device=device)
        self.native_video = takes_videos(self.loaded.processor)

    def _input(self, record: dict) -> dict:
        return generation_input(record["prompt"], record.get("images") or [], record.get("videos") or [],
                                self.root, video_frames=self.s["video_frames"], native_video=self.native_video)

    def _generate(self, inputs: list[dict], **kw) -> list[str]:
        from .. import models  # looked up at call time, so tests can watch models.generate

        try:
            outs = models.generate(self.loaded.model, self.loaded.processor, inputs, adapter=self.loaded.adapter,
                                   root=self.root, max_new_tokens=self.s["max_new_tokens"],
                                   batch_size=max(1, len(inputs)), **kw)
        except RecordProblem as problem:
            raise DataError(f"{problem.message}") from None
        return [o.text for o in outs]

    def sample(self, record: dict) -> list[dict]:
        s, out = self.s, []
        for k in range(s["n"]):
            seed = derived_seed(s["seed"], record["id"], k)
            (text,) = self._generate([self._input(record)], do_sample=True, temperature=s["temperature"],
                                     top_p=s["top_p"], seed=seed)
            out.append({"text": text, "model": self.name, "sample": k, "seed": seed})
        return out

    def greedy(self, records: list[dict]) -> list[list[dict]]:
        texts = self._generate([self._input(r) for r in records], do_sample=False)
        return [[{"text": t, "model": self.name, "sample": 0}] for t in texts]


def _run_model(k: int, model_path: str, prompts: list[dict], out: Path, root: Path, settings: dict,
               device: str, dtype: str | None, progress: bool) -> None:
    path = part_path(out, "generate", k)
    done = finished_lines(path)
    if all(r["id"] in done for r in prompts):
        return
    sampler = _Sampler(model_path, root, settings, device, dtype)
    bar = tqdm(total=len(prompts), initial=sum(r["id"] in done for r in prompts), desc=f"generate {model_path}",
               unit=" prompts", disable=not progress)
    # The bar closes (its line ended) before any error is printed.
    with bar, JsonlAppender(path, fsync=True, fault="generate-line") as part:
        if settings["temperature"] > 0:
            for record in (r for r in prompts if r["id"] not in done):
                part.write({"id": record["id"], "candidates": sampler.sample(record)})
                bar.update(1)
        else:
            size = settings["batch_size"]
            for start in range(0, len(prompts), size):
                chunk = prompts[start:start + size]
                if all(r["id"] in done for r in chunk):
                    continue
                answers = sampler.greedy(chunk)  # the whole chunk, as the first run padded it
                new = [(r, a) for r, a in zip(chunk, answers) if r["id"] not in done]
                part.write_many({"id": r["id"], "candidates": a} for r, a in new)
                bar.update(len(new))


def generate_candidates(data: str | Path, models: list[str], out: str | Path, *, root: str | Path | None = None,
                        n: int = 4, temperature: float = 1.0, top_p: float = 1.0, seed: int = 0,
                        max_new_tokens: int = 64, batch_size: int = 8, video_frames: int = 0, device: str = "auto",
                        dtype: str | None = None, on_bad_record: OnBadRecord = "error", progress: bool = True) -> dict:
    """Write OUT/candidates.jsonl (and OUT/generate_summary.json); returns the summary."""
    if not models:
        raise MMAlignError("give at least one --model")
    if n < 1 or max_new_tokens < 1 or batch_size < 1:
        raise MMAlignError("--n, --max-new-tokens and --batch-size must be at least 1")
    if temperature < 0 or not 0 < top_p <= 1:
        raise MMAlignError("--temperature must be >= 0 and --top-p in (0, 1]")
    if temperature == 0 and n > 1:
        raise MMAlignError(f"--temperature 0 is greedy: --n {n} would give {n} identical answers; use --n 1 "
                           "or sample (--temperature > 0)")
    data, out = Path(data), Path(out)
    root = Path(root) if root is not None else data.parent
    prompts, bad = _checked_prompts(data, root, on_bad_record)
    if not prompts:
        raise MMAlignError(f"{data}: no prompts to answer")
    settings = {"n": n, "temperature": temperature, "top_p": top_p, "seed": seed, "max_new_tokens": max_new_tokens,
                "batch_size": batch_size, "video_frames": video_frames}
    claim_settings(out, "generate", {"data": str(data), "models": list(models), **settings})
    remove_stale_temp_files(out)  # an output a killed run was writing
    for k, model_path in enumerate(models):
        _run_model(k, model_path, prompts, out, root, settings, device, dtype, progress)
    parts = [finished_lines(part_path(out, "generate", k)) for k in range(len(models))]
    records = [{**r, "candidates": [c for part in parts for c in part[r["id"]]["candidates"]]} for r in prompts]
    write_jsonl_atomic(out / CANDIDATES_FILE, records)
    summary = {"prompts": len(records), "candidates": sum(len(r["candidates"]) for r in records),
               "models": list(models), **settings, "skipped_lines": dict(bad)}
    write_json_atomic(out / SUMMARY_FILE, summary)
    return summary
