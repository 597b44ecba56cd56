"""One stage of a recipe: an ordinary mmalign step with its inputs named, a fingerprint and a done marker.

A stage writes only into its own folder, `OUTPUT_DIR/iter-N/<name>/`. When it finishes, `stage.json` is
written there last (atomically) with the stage's fingerprint. On a rerun a stage is skipped only when that
marker exists with the same fingerprint; otherwise its folder is deleted and the stage runs again from
the start. The fingerprint covers the stage's kind and parameters, the fingerprints of the stages it reads
from (so a changed stage reruns everything downstream) and the size and time of every outside file it
reads (the prompts, the starting model, the train config): editing one reruns what depends on it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..io import write_json_atomic

MARKER = "stage.json"


@dataclass(frozen=True)
class Stage:
    iteration: int  # 0: before the first round (e.g. the anchored answers of temporal self-rewarding)
    name: str  # folder name within the iteration: generate, score, pairs, train, merge, ...
    kind: str  # which step runs it (steps.STEPS)
    params: dict[str, Any] = field(default_factory=dict)  # JSON-able; paths as strings
    after: tuple[str, ...] = ()  # keys of the stages whose outputs it reads

    @property
    def key(self) -> str:
        return f"iter-{self.iteration}/{self.name}"


def _stamp(path: Path) -> Any:
    """What identifies an outside input's content cheaply: size and modification time of the file, or of
    each file directly in the folder."""
    if path.is_file():
        st = path.stat()
        return [st.st_size, st.st_mtime_ns]
    return sorted([p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in path.iterdir() if p.is_file())


def outside_inputs(params: dict[str, Any], output_dir: Path) -> dict[str, Any]:
    """Stamps of the existing paths among the parameters' strings that lie outside the recipe's folder."""
    found: dict[str, Any] = {}

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                visit(v)
        elif isinstance(value, list):
            for v in value:
                visit(v)
        elif isinstance(value, str) and "model=" in value:  # a judge spec: stamp the model it names
            visit(value.split("model=", 1)[1].split(",", 1)[0])
        elif isinstance(value, str) and value and len(value) < 4096:
            path = Path(value)
            try:
                if not path.exists() or path.resolve().is_relative_to(output_dir.resolve()):
                    return
                found[value] = _stamp(path)
            except OSError:
                return

    visit(params)
    return found


def fingerprint(stage: Stage, upstream: dict[str, str], output_dir: Path) -> str:
    body = {"kind": stage.kind, "params": stage.params, "after": {k: upstream[k] for k in stage.after},
            "inputs": outside_inputs(stage.params, output_dir)}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]


def finished(folder: Path, print_: str) -> bool:
    """Whether `folder` holds a finished stage with fingerprint `print_`."""
    try:
        return json.loads((folder / MARKER).read_text())["fingerprint"] == print_
    except (OSError, ValueError, KeyError, TypeError):
        return False


def start_clean(folder: Path) -> None:
    """An unfinished or outdated stage's folder goes: the stage restarts from nothing."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def mark_finished(folder: Path, stage: Stage, print_: str, result: dict[str, Any]) -> None:
    write_json_atomic(folder / MARKER, {"key": stage.key, "kind": stage.kind, "fingerprint": print_,
                                        "result": result})
