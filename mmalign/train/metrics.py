"""metrics.jsonl, the primary log (one JSON object per logged step, flushed as it goes), and TensorBoard or
W&B through accelerate's trackers when `report_to` asks for one and it is installed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from ..io import resume_jsonl, write_jsonl_atomic

# report_to -> the module that must be importable for accelerate's tracker of that name.
TRACKER_MODULES = {"tensorboard": "torch.utils.tensorboard", "wandb": "wandb"}


def tracker_for(report_to: str) -> str | None:
    """accelerate's `log_with` for `report_to`, or None (with a message) when it is not installed."""
    if report_to == "none":
        return None
    module = TRACKER_MODULES[report_to]
    try:
        found = importlib.util.find_spec(module) is not None and (
            report_to != "tensorboard" or importlib.util.find_spec("tensorboard") is not None)
    except ModuleNotFoundError:
        found = False
    if not found:
        print(f"report_to={report_to}: {report_to} is not installed; writing metrics.jsonl only")
        return None
    return report_to


def flat_config(config: dict, prefix: str = "") -> dict:
    """A tracker's hyperparameters: nested keys joined with '.', lists and other values as text."""
    out = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(flat_config(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value if isinstance(value, (int, float, str, bool)) else str(value)
    return out


class MetricsLog:
    """Rows to metrics.jsonl (main process) and to the accelerator's trackers, if it has any."""

    def __init__(self, path: Path, accelerator=None, resume_after: int = 0):
        self.path = path
        self.accelerator = accelerator
        if resume_after:
            self.truncate_after(resume_after)
        elif path.exists():
            path.unlink()  # a fresh run starts a fresh log
        self._fh = open(path, "a", encoding="utf-8")

    def truncate_after(self, step: int) -> None:
        """On resume, drop logged steps after the checkpoint so the log has no duplicates."""
        kept = [row for row in resume_jsonl(self.path) if row.get("step", 0) <= step] if self.path.exists() else []
        write_jsonl_atomic(self.path, kept)

    def log(self, row: dict) -> None:
        self._fh.write(json.dumps(row) + "\n")
        self._fh.flush()
        if self.accelerator is not None and self.accelerator.trackers:
            scalars = {k: v for k, v in row.items() if isinstance(v, (int, float)) and k != "step"}
            self.accelerator.log(scalars, step=row.get("step", 0))

    def close(self) -> None:
        self._fh.close()
