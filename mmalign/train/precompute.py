"""Reference log-probs computed once for the whole (offline) dataset, stored next to the run.

The table lives at `<cache_dir>/<fingerprint>.pt` (written atomically) and is reused across epochs and
restarts. The fingerprint covers what changes the numbers: the model folder (config, tokenizer and
processor files by content; weight files by name, size and modification time), the data file's
content, the media files' names, sizes and modification times, and any extra settings the caller adds
(dtype, max_length, objective needs, the forward's name, ...). A changed input gives a new fingerprint,
so the table is recomputed; stale tables are left for the user to delete.

In distributed runs let the main process compute the table, then barrier; the other processes then
find it on disk (same fingerprint) and load it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from ..io import temp_file_beside

CONTENT_SUFFIXES = (".json", ".jinja", ".txt", ".model", ".py", ".yaml", ".yml")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


def file_digest(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _stat_line(path: Path) -> str:
    st = path.stat()
    return f"{path.name}:{st.st_size}:{st.st_mtime_ns}"


def _folder_lines(folder: Path, tag: str) -> list[str]:
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".cache" not in p.parts):
        rel = path.relative_to(folder).as_posix()
        if path.suffix in CONTENT_SUFFIXES:
            lines.append(f"{tag}:{rel}:sha256={file_digest(path)}")
        elif path.suffix in WEIGHT_SUFFIXES:
            lines.append(f"{tag}:{rel}:{_stat_line(path)}")
    return lines


def reference_fingerprint(model: str | Path, data_file: str | Path, processor: str | Path | None = None,
                          media: Iterable[str | Path] = (), extra: dict[str, Any] | None = None) -> str:
    """A short hash of everything the reference log-probs depend on.

    `model`/`processor`: local folders (hub names are hashed by name; pin a revision through `extra`).
    `media`: the image/video files the records use (hashed by name, size and mtime).
    """
    lines = []
    for tag, where in (("model", model), ("processor", processor)):
        if where is None:
            continue
        folder = Path(where)
        lines += _folder_lines(folder, tag) if folder.is_dir() else [f"{tag}:name={where}"]
    lines.append(f"data:sha256={file_digest(data_file)}")
    for path in sorted(str(p) for p in media):
        lines.append(f"media:{path}:{_stat_line(Path(path))}")
    lines.append("extra:" + json.dumps(extra or {}, sort_keys=True, default=str))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:20]


def _save_atomic(obj: dict[str, Any], path: Path) -> None:
    fd, tmp = temp_file_beside(path)  # the umask's mode, not mkstemp's 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_reference_table(path: str | Path, fingerprint: str) -> dict[str, tuple[float, float]] | None:
    """The stored table, or None when missing, unreadable or made for another fingerprint."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - a torn or foreign file (any unpickling error): recompute
        return None
    if not isinstance(data, dict) or data.get("fingerprint") != fingerprint:
        return None
    return {i: (float(c), float(r)) for i, c, r in zip(data["ids"], data["chosen"].tolist(),
                                                         data["rejected"].tolist())}


def _model_device(model) -> torch.device:
    return next(model.parameters()).device


def precompute_reference(reference_model_fn: Callable[[], Any], forward: Callable[[Any, dict], Any], collator,
                         records: Sequence, cache_dir: str | Path, fingerprint: str, batch_size: int = 8,
                         progress: Callable[[int, int], None] | None = None) -> dict[str, tuple[float, float]]:
    """Reference (chosen, rejected) log-probs for every record id, from `<cache_dir>/<fingerprint>.pt`.

    `reference_model_fn()` returns the reference model or a `(model, context manager)` pair such as
    `reference.context(policy)` (LoRA: the adapter-disabled policy). `forward(model, batch)` returns
    `AnswerLogps` (the trainer's PairForward); `collator(records)` makes the batches. A stored table with
    the same fingerprint and every record id is loaded instead of recomputed.
    """
    path = Path(cache_dir) / f"{fingerprint}.pt"
    wanted = [r.id for r in records]
    if len(set(wanted)) != len(wanted):
        raise ValueError("precompute_reference needs unique record ids")
    table = load_reference_table(path, fingerprint)
    if table is not None and all(i in table for i in wanted):
        return table
    got = reference_model_fn()
    model, ctx = got if isinstance(got, tuple) else (got, contextlib.nullcontext())
    from .step import to_device

    device = _model_device(model)
    ids: list[str] = []
    chosen, rejected = [], []
    with torch.no_grad(), ctx:
        for start in range(0, len(records), batch_size):
            batch = collator(list(records[start:start + batch_size]))
            batch = to_device(batch, device)
            out = forward(model, batch)
            ids += list(batch["ids"])
            chosen.append(out.chosen.detach().float().cpu())
            rejected.append(out.rejected[:, 0].detach().float().cpu())  # one rejection per record
            if progress is not None:
                progress(min(start + batch_size, len(records)), len(records))
    data = {"fingerprint": fingerprint, "ids": ids, "chosen": torch.cat(chosen) if chosen else torch.zeros(0),
            "rejected": torch.cat(rejected) if rejected else torch.zeros(0)}
    _save_atomic(data, path)
    return {i: (float(c), float(r)) for i, c, r in zip(ids, data["chosen"].tolist(), data["rejected"].tolist())}


def attach_reference(batch: dict[str, Any], table: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """A copy of `batch` with `ref_chosen_logps` / `ref_rejected_logps` [B] looked up by `batch["ids"]`."""
    missing = [i for i in batch["ids"] if i not in table]
    if missing:
        raise KeyError(f"no precomputed reference log-probs for record ids {missing[:5]}")
    device = batch["chosen_input_ids"].device
    rows = torch.tensor([table[i] for i in batch["ids"]], dtype=torch.float32, device=device)
    return {**batch, "ref_chosen_logps": rows[:, 0], "ref_rejected_logps": rows[:, 1]}
