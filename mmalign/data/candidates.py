"""Candidate files (docs/candidates.md): prompts in, sampled answers out, scores added.

A candidate file is JSON lines, one prompt per line, media as in preference records:

    {"id": "p-3", "images": ["img/3.png"], "prompt": "<image>\\nDescribe the shapes.",
     "candidates": [{"text": "A red circle.", "model": "sft-v1", "sample": 0, "scores": {"judge-a": 7.0}}],
     "reference": "A red circle.", "meta": {"source": "synth"}}

`reference` is the known true answer when the data has one (the synthetic world's answer, a preference
record's `chosen`); the oracle judge reads it. Unknown fields are kept.

`read_prompts` reads what `mmalign generate` answers: prompt records (candidate files, preference records,
`{"id", "prompt", "images"}` lines) or LLaVA instruction data (a JSON list with `conversations`).
`read_candidates` reads candidate files for `mmalign score` and `mmalign pairs`. Both follow the project's
bad-record policy: "file:line: problem" (error) or a count per reason (skip).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Literal

from ..errors import DataError
from ..io import check_data_file
from .schema import RecordProblem, as_messages, count_placeholders

OnBadRecord = Literal["error", "skip"]
# Fields of a preference record that describe answers, not the prompt: not carried into a candidate file.
ANSWER_FIELDS = ("chosen", "rejected", "rejected_list", "rejected_images", "rejected_videos", "rejected_prompt",
                 "scores", "factuality", "candidates")


def message_text(value: Any) -> str:
    """The text of an answer given as a string or as chat messages (text items joined by spaces)."""
    if isinstance(value, str):
        return value.strip()
    messages = as_messages(value, "answer", "assistant")
    return " ".join(item["text"] for m in messages for item in m["content"] if item.get("type") == "text").strip()


def _media(obj: dict, key: str) -> list[str]:
    value = obj.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RecordProblem("wrong_type", f"field '{key}' must be a list of path strings")
    return list(value)


def _check_prompt(obj: dict) -> None:
    messages = as_messages(obj["prompt"], "prompt", "user")
    for kind, key in (("image", "images"), ("video", "videos")):
        n, listed = count_placeholders(messages, kind), len(obj.get(key) or [])
        if n != listed:
            raise RecordProblem("placeholder_mismatch",
                                f"prompt has {n} <{kind}> placeholder(s) but {listed} {kind}(s) are listed")


def _record_id(obj: dict, line: int) -> str:
    rid = obj.get("id", f"line-{line}")
    if isinstance(rid, bool) or not isinstance(rid, (str, int)) or rid == "":
        raise RecordProblem("wrong_type", "field 'id' must be a non-empty string or an integer")
    return str(rid)


def prompt_record(obj: Any, line: int) -> dict:
    """A prompt to answer, as a candidate-file record without candidates; raises RecordProblem.

    LLaVA rows (`image` + `conversations`) use their first human turn as the prompt and the gpt turn after
    it as the reference; other records need `prompt` and take `reference` or, failing that, `chosen`.
    A record without an `id` gets "line-N" (its line), which changes when lines are added above it.
    """
    if not isinstance(obj, dict):
        raise RecordProblem("not_an_object", f"a record must be a JSON object, got {type(obj).__name__}")
    if "prompt" not in obj and isinstance(obj.get("conversations"), list):
        obj = _from_llava(obj)
    if "prompt" not in obj:
        raise RecordProblem("missing_field", "missing required field 'prompt'")
    out = {k: v for k, v in obj.items() if k not in ANSWER_FIELDS}
    out["id"] = _record_id(obj, line)
    for key in ("images", "videos"):
        out.pop(key, None)
        if _media(obj, key):
            out[key] = _media(obj, key)
    _check_prompt(out)
    reference = obj.get("reference", obj.get("chosen"))
    if reference is not None:
        out["reference"] = message_text(reference)
    return out


def _from_llava(obj: dict) -> dict:
    turns = obj["conversations"]
    first = next((i for i, t in enumerate(turns) if isinstance(t, dict) and t.get("from") == "human"), None)
    if first is None or not isinstance(turns[first].get("value"), str):
        raise RecordProblem("missing_field", "the LLaVA row has no human turn")
    out = {k: v for k, v in obj.items() if k not in ("conversations", "image")}
    out["prompt"] = turns[first]["value"]
    if obj.get("image") is not None:
        out["images"] = obj["image"] if isinstance(obj["image"], list) else [obj["image"]]
    answer = turns[first + 1] if first + 1 < len(turns) else None
    if isinstance(answer, dict) and answer.get("from") == "gpt" and isinstance(answer.get("value"), str):
        out["reference"] = answer["value"]
    return out


def candidate_record(obj: Any, line: int) -> dict:
    """Check one candidate-file line (a prompt record with a non-empty `candidates` list); raises RecordProblem."""
    if isinstance(obj, dict) and "candidates" not in obj:
        raise RecordProblem("no_candidates", "the line has no 'candidates' list (run mmalign generate first)")
    record = prompt_record({k: v for k, v in obj.items() if k != "candidates"} if isinstance(obj, dict) else obj,
                           line)
    candidates = obj["candidates"]
    if not isinstance(candidates, list) or not candidates:
        raise RecordProblem("no_candidates", "'candidates' must be a non-empty list")
    for k, cand in enumerate(candidates):
        if not isinstance(cand, dict) or not isinstance(cand.get("text"), str):
            raise RecordProblem("wrong_type", f"candidates[{k}] must be an object with a string 'text'")
        scores = cand.get("scores", {})
        if not isinstance(scores, dict) or not all(
                v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in scores.values()):
            raise RecordProblem("wrong_type", f"candidates[{k}].scores must map judge names to numbers")
    record["candidates"] = candidates
    if "reference" in obj:  # keep the file's own field as it is
        record["reference"] = obj["reference"]
    return record


def _lines(path: Path):
    """(line, value or RecordProblem) of a JSON-lines file, or of a JSON list (LLaVA's instruction files)."""
    check_data_file(path)  # not found, a folder, empty (else an empty file would answer nothing, silently)
    # One reader for both shapes: llava_source's, which already turns malformed lines into RecordProblems.
    from .llava_source import _iter_values

    yield from _iter_values(path)


def _read(path: str | Path, parse, on_bad_record: OnBadRecord) -> tuple[list[dict], Counter]:
    if on_bad_record not in ("error", "skip"):
        raise ValueError(f"on_bad_record must be 'error' or 'skip', got {on_bad_record!r}")
    path = Path(path)
    records: list[dict] = []
    bad: Counter = Counter()
    seen: set[str] = set()
    for line, value in _lines(path):
        try:
            if isinstance(value, RecordProblem):
                raise value
            record = parse(value, line)
            if record["id"] in seen:
                raise RecordProblem("duplicate_id", f"id {record['id']!r} appeared on an earlier line")
        except RecordProblem as problem:
            if on_bad_record == "error":
                raise DataError(f"{path}:{line}: {problem.message}") from None
            bad[problem.reason] += 1
            continue
        seen.add(record["id"])
        records.append(record)
    return records, bad


def read_prompts(path: str | Path, on_bad_record: OnBadRecord = "error") -> tuple[list[dict], Counter]:
    """Prompt records of `path` (see `prompt_record`) and the count of skipped lines per reason."""
    return _read(path, prompt_record, on_bad_record)


def read_candidates(path: str | Path, on_bad_record: OnBadRecord = "error") -> tuple[list[dict], Counter]:
    """Candidate-file records of `path` (see `candidate_record`) and the count of skipped lines per reason."""
    return _read(path, candidate_record, on_bad_record)


def skipped_text(bad: Counter) -> str:
    """ "skipped 3 bad line(s) (no_candidates: 2, wrong_type: 1)", or "" when none was skipped."""
    if not bad:
        return ""
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(bad.items()))
    return f"skipped {sum(bad.values())} bad line(s) ({reasons})"
