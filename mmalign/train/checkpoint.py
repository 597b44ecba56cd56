"""Checkpoints: Hugging Face folders (full weights or a PEFT adapter, processor included) plus the
trainer state needed to resume exactly. Every folder is written under a temporary name and renamed."""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import numpy as np
import torch

from ..errors import MMAlignError
from ..io import umask_modes

STATE_FILE = "trainer_state.pt"


def save_model_folder(path: Path, model, processor, final: bool = False) -> None:
    """Write model (or adapter) and processor into a fresh folder at `path`, atomically. `final`: a model with
    a shareable export form (a text reward model: sequence classification) writes that instead."""
    tmp = path.parent / f".{path.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if final and hasattr(model, "export_pretrained"):
        model.export_pretrained(tmp, processor)
    else:
        model.save_pretrained(tmp)
    processor.save_pretrained(tmp)
    umask_modes(tmp)  # safetensors writes adapter weights 0600
    _replace_dir(tmp, path)


def _replace_dir(tmp: Path, path: Path) -> None:
    if path.exists():
        old = path.parent / f".{path.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        path.rename(old)
        tmp.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(path)


def rng_state() -> dict:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(output_dir: Path, step: int, model, processor, optimizer, scheduler, extra: dict) -> Path:
    path = output_dir / f"checkpoint-{step}"
    tmp = output_dir / f".checkpoint-{step}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp)
    processor.save_pretrained(tmp)
    torch.save({"step": step, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "rng": rng_state(), **extra}, tmp / STATE_FILE)
    umask_modes(tmp)  # safetensors writes adapter weights 0600
    _replace_dir(tmp, path)
    return path


def list_checkpoints(output_dir: Path) -> list[Path]:
    found = []
    for p in output_dir.glob("checkpoint-*"):
        m = re.fullmatch(r"checkpoint-(\d+)", p.name)
        if m and (p / STATE_FILE).is_file():
            found.append((int(m.group(1)), p))
    return [p for _, p in sorted(found)]


def rotate_checkpoints(output_dir: Path, keep: int) -> None:
    if keep <= 0:
        return
    for old in list_checkpoints(output_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def resolve_resume(output_dir: Path, resume_from: str) -> Path | None:
    if not resume_from:
        return None
    if resume_from == "latest":
        found = list_checkpoints(output_dir)
        return found[-1] if found else None
    path = Path(resume_from)
    if not (path / STATE_FILE).is_file():
        raise MMAlignError(f"resume_from={resume_from!r}: no {STATE_FILE} there; not a checkpoint folder")
    return path


def load_state(path: Path) -> dict:
    return torch.load(path / STATE_FILE, weights_only=False)


