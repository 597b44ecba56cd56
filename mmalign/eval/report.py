"""Comparing checkpoints: read several metrics.json files, write report.json, report.md, report.png.

Each directory given is one checkpoint's results: either it holds a metrics.json (one benchmark) or
its sub-folders do (one per benchmark, e.g. `runs/ckpt-A/pope/metrics.json`). The checkpoint's label
is the directory's name (its full path when two names clash).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import DataError
from ..io import temp_file_beside, write_json_atomic, write_text_atomic
from .registry import BENCHMARKS


def _load_metrics(path: Path) -> dict:
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from None
    if not isinstance(metrics, dict) or "benchmark" not in metrics or not isinstance(metrics.get("overall"), dict):
        raise DataError(f"{path}: not an mmalign metrics file (needs 'benchmark' and 'overall')")
    return metrics


def collect_metrics(dirs: list[str | Path]) -> list[tuple[str, dict]]:
    """(checkpoint label, metrics) for every metrics.json in or one level under each directory."""
    found: list[tuple[Path, dict]] = []
    for d in map(Path, dirs):
        files = [d / "metrics.json"] if (d / "metrics.json").is_file() else sorted(d.glob("*/metrics.json"))
        if not files:
            raise DataError(f"{d}: no metrics.json in this folder or its sub-folders")
        found += [(d, _load_metrics(f)) for f in files]
    unique_dirs = {d for d, _ in found}
    clashes = {d.name for d in unique_dirs if sum(e.name == d.name for e in unique_dirs) > 1}
    return [(str(d) if d.name in clashes else d.name, m) for d, m in found]


def build_report(entries: list[tuple[str, dict]]) -> dict:
    """{"benchmarks": {bench: {"metrics": [...], "checkpoints": {label: {metric: value}}, "scoring": {...}}}}."""
    benchmarks: dict[str, dict] = {}
    for label, metrics in entries:
        bench = benchmarks.setdefault(metrics["benchmark"], {"metrics": [], "checkpoints": {}, "scoring": {}})
        # Rates and scores are floats; integer entries are counts, which a comparison does not plot.
        values = {k: v for k, v in metrics["overall"].items() if isinstance(v, float)}
        bench["checkpoints"][label] = values
        bench["scoring"][label] = metrics.get("scoring", "")
    for name, bench in benchmarks.items():
        headline = BENCHMARKS[name].headline if name in BENCHMARKS else ()
        seen = {k for values in bench["checkpoints"].values() for k in values}
        bench["metrics"] = [m for m in headline if m in seen] + sorted(seen - set(headline))
    return {"benchmarks": benchmarks}


def render_markdown(report: dict) -> str:
    parts = ["# Evaluation report", ""]
    for name, bench in report["benchmarks"].items():
        parts += [f"## {name}", "", "| checkpoint | " + " | ".join(bench["metrics"]) + " |",
                  "|---|" + "---:|" * len(bench["metrics"])]
        for label, values in bench["checkpoints"].items():
            cells = [f"{values[m]:.2f}" if m in values else "-" for m in bench["metrics"]]
            parts.append(f"| {label} | " + " | ".join(cells) + " |")
        scorings = sorted(set(bench["scoring"].values()))
        parts += ["", "Scoring: " + "; ".join(s for s in scorings if s), ""]
    return "\n".join(parts)


def draw_png(report: dict, path: str | Path) -> None:
    """One panel per benchmark, metrics along x, one bar per checkpoint; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    benches = list(report["benchmarks"].items())
    fig, axes = plt.subplots(1, max(1, len(benches)), figsize=(5 * max(1, len(benches)), 4), squeeze=False)
    for ax, (name, bench) in zip(axes[0], benches):
        labels = list(bench["checkpoints"])
        width = 0.8 / max(1, len(labels))
        for i, label in enumerate(labels):
            values = [bench["checkpoints"][label].get(m, 0.0) for m in bench["metrics"]]
            ax.bar([x + i * width for x in range(len(bench["metrics"]))], values, width, label=label)
        ax.set_xticks([x + width * (len(labels) - 1) / 2 for x in range(len(bench["metrics"]))])
        ax.set_xticklabels(bench["metrics"], rotation=30, ha="right")
        ax.set_title(name)
        ax.legend(fontsize="small")
    fig.tight_layout()
    path = Path(path)
    fd, tmp = temp_file_beside(path)  # the umask's mode, not mkstemp's 0600
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=100)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        Path(tmp).unlink(missing_ok=True)


def write_report(dirs: list[str | Path], out_dir: str | Path) -> dict:
    """Read every checkpoint's metrics and write OUT/report.json, report.md and report.png."""
    out_dir = Path(out_dir)
    report = build_report(collect_metrics(dirs))
    write_json_atomic(out_dir / "report.json", report)
    write_text_atomic(out_dir / "report.md", render_markdown(report))
    draw_png(report, out_dir / "report.png")
    return report
