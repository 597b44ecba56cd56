"""metrics.jsonl (one JSON object per logged step, flushed as it goes) and optional TensorBoard / W&B."""

from __future__ import annotations

import json
from pathlib import Path

from ..io import resume_jsonl, write_jsonl_atomic


class MetricsLog:
    def __init__(self, path: Path, report_to: str = "none", resume: bool = False, config: dict | None = None):
        self.path = path
        if path.exists() and not resume:
            path.unlink()  # a fresh run starts a fresh log; a resumed one truncates via `truncate_after`
        self._fh = open(path, "a", encoding="utf-8")
        self._sink = None
        if report_to == "tensorboard":
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._sink = ("tb", SummaryWriter(str(path.parent / "tensorboard")))
            except ImportError:
                print("report_to=tensorboard: tensorboard is not installed; writing metrics.jsonl only")
        elif report_to == "wandb":
            try:
                import wandb

                self._sink = ("wandb", wandb.init(project="mmalign", config=config or {}))
            except ImportError:
                print("report_to=wandb: wandb is not installed; writing metrics.jsonl only")

    def truncate_after(self, step: int) -> None:
        """On resume, drop logged steps after the checkpoint so the log has no duplicates."""
        self._fh.close()
        kept = [row for row in resume_jsonl(self.path) if row.get("step", 0) <= step]
        write_jsonl_atomic(self.path, kept)
        self._fh = open(self.path, "a", encoding="utf-8")

    def log(self, row: dict) -> None:
        self._fh.write(json.dumps(row) + "\n")
        self._fh.flush()
        if self._sink is None:
            return
        kind, sink = self._sink
        step = row.get("step", 0)
        scalars = {k: v for k, v in row.items() if isinstance(v, (int, float)) and k != "step"}
        if kind == "tb":
            for k, v in scalars.items():
                sink.add_scalar(k, v, step)
        else:
            sink.log(scalars, step=step)

    def close(self) -> None:
        self._fh.close()
        if self._sink is not None:
            kind, sink = self._sink
            (sink.close if kind == "tb" else sink.finish)()
