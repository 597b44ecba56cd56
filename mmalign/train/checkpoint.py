"""Checkpoints: `checkpoint-N/` holds the Hugging Face / PEFT files users load (the full model, or only the
LoRA adapter, plus the processor), `accelerate/` with the training state that accelerate saves and restores
(optimiser, scheduler, every rank's RNG; under FSDP2 the sharded model and optimiser), and
`trainer_state.json` (step, counters, the run's config). Nothing in a checkpoint is unpickled beyond
tensors and numbers: accelerate loads its files with `weights_only=True`.

Every folder is written under a temporary name and renamed, so a crash mid-write leaves the previous
checkpoint as it was. Full-weight checkpoints are written in the model's in-memory layout
(`save_original_format=False`): `from_pretrained` of transformers 5 loads them, and a resume reads them
straight into the running model; `final/` is written in the original, shareable layout.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from accelerate.utils import DistributedType

from ..errors import MMAlignError
from ..faults import fault_point
from ..io import umask_modes, write_json_atomic
from .ranks import stop_together

STATE_FILE = "trainer_state.json"
LEGACY_STATE_FILE = "trainer_state.pt"  # mmalign before the accelerate-based checkpoints
ACCELERATE_DIR = "accelerate"


@dataclass
class TrainerState:
    """What a resume needs besides the weights and accelerate's state."""

    step: int
    nonfinite_total: int = 0
    world_size: int = 1
    global_batch: int = 0
    config: dict = field(default_factory=dict)

    @classmethod
    def read(cls, folder: Path) -> TrainerState:
        if (folder / LEGACY_STATE_FILE).is_file() and not (folder / STATE_FILE).is_file():
            raise MMAlignError(
                f"{folder}: written by an earlier mmalign (trainer_state.pt), whose training state this version "
                f"does not read (it was pickled). Its weights still load: start a new run from them with "
                f"model={folder} (a full-weight checkpoint), or finish the run with the mmalign that wrote it")
        try:
            data = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise MMAlignError(f"{folder / STATE_FILE}: not a readable mmalign trainer state ({exc})") from None


def is_fsdp(accelerator) -> bool:
    return accelerator.distributed_type == DistributedType.FSDP


def save_model_folder(path: Path, model, processor, final: bool = False, accelerator=None, wrapped=None) -> None:
    """Write `model` (the unwrapped model, or its adapter) and `processor` into a fresh folder at `path`,
    atomically. `final`: the original, shareable layout (and a text reward model's export form); otherwise
    the in-memory layout a resume reads. With an `accelerator` every rank must call this (under FSDP the
    full state dict is gathered from the shards of `wrapped`); only the main process writes."""
    state_dict = accelerator.get_state_dict(wrapped) if accelerator is not None and is_fsdp(accelerator) else None
    if accelerator is not None and not accelerator.is_main_process:
        return
    tmp = path.parent / f".{path.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        _write_model_files(tmp, model, processor, final, state_dict)
    except Exception as exc:  # noqa: BLE001 - torch, safetensors and plain writes each raise their own kind
        shutil.rmtree(tmp, ignore_errors=True)
        raise MMAlignError(f"could not write {path} ({type(exc).__name__}: {exc}); is the disk full?") from None
    umask_modes(tmp)  # safetensors writes adapter weights 0600
    _replace_dir(tmp, path)


def _write_model_files(folder: Path, model, processor, final: bool, state_dict) -> None:
    if final and hasattr(model, "export_pretrained"):
        model.export_pretrained(folder, processor)
    else:
        kwargs = {} if state_dict is None else {"state_dict": state_dict}
        if not final and _is_transformers_model(model):
            kwargs["save_original_format"] = False
        model.save_pretrained(folder, **kwargs)
    processor.save_pretrained(folder)


def _is_transformers_model(model) -> bool:
    """A transformers model (or a reward model around one), not a PEFT adapter."""
    from transformers import PreTrainedModel

    return isinstance(getattr(model, "backbone", model), PreTrainedModel)


def _replace_dir(tmp: Path, path: Path) -> None:
    if path.exists():
        old = path.parent / f".{path.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        path.rename(old)
        tmp.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(path)


def save_checkpoint(accelerator, output_dir: Path, model, wrapped, processor, state: TrainerState) -> Path:
    """Write `checkpoint-<state.step>/`. Every rank calls this: accelerate writes each rank's RNG state (and,
    under FSDP, its shards) into the same temporary folder, which the main process then renames."""
    path = output_dir / f"checkpoint-{state.step}"
    tmp = output_dir / f".checkpoint-{state.step}.tmp"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    state_dict = accelerator.get_state_dict(wrapped) if is_fsdp(accelerator) else None
    problem = None
    try:
        if accelerator.is_main_process:
            _write_model_files(tmp, model, processor, False, state_dict)
            write_json_atomic(tmp / STATE_FILE, asdict(state))
        accelerator.save_state(str(tmp / ACCELERATE_DIR))
        fault_point("checkpoint-write")
    except Exception as exc:  # noqa: BLE001 - torch, safetensors and plain writes each raise their own kind
        problem = (f"could not write {path} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''});"
                   f" is the disk full? {_previous(output_dir)}")
    try:
        stop_together(accelerator, problem, MMAlignError)  # every rank stops, none waits for the failed one
    except MMAlignError:
        if accelerator.is_main_process:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    if accelerator.is_main_process:
        umask_modes(tmp)
        _replace_dir(tmp, path)
    accelerator.wait_for_everyone()
    return path


def _previous(output_dir: Path) -> str:
    found = list_checkpoints(output_dir)
    if not found:
        return "No earlier checkpoint."
    return f"{found[-1]} is intact: free some space and rerun with resume_from=latest."


def list_checkpoints(output_dir: Path) -> list[Path]:
    found = []
    for p in output_dir.glob("checkpoint-*"):
        m = re.fullmatch(r"checkpoint-(\d+)", p.name)
        if m and ((p / STATE_FILE).is_file() or (p / LEGACY_STATE_FILE).is_file()):
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
    if not ((path / STATE_FILE).is_file() or (path / LEGACY_STATE_FILE).is_file()):
        raise MMAlignError(f"resume_from={resume_from!r}: no {STATE_FILE} there; not a checkpoint folder")
    return path
