"""Chart the demo findings: single-image against multi-image accuracy, with the earlier demo goal's target region.

    .venv/bin/python scripts/plot_demo_ceiling.py docs/demo/ceiling.csv docs/demo/ceiling.png

The CSV has a header `name,group,single,multi` (accuracies in %). The row whose group is `base` sets the
target: multi-image at least 15 points above it, single-image at most 2 points below it. Other groups
(say supervised runs on the true answers, and DPO runs) get one colour each, in order of appearance.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

FIELDS = ["name", "group", "single", "multi"]
PALETTE = ["#333333", "#c2571a", "#2f6fb0", "#7f7f7f", "#8e44ad"]  # in the order groups first appear


def read_points(path: Path) -> list[dict]:
    """The CSV's rows; a malformed row stops with its file and line."""
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != FIELDS:
            raise SystemExit(f"{path}:1: header must be {','.join(FIELDS)}, got {','.join(reader.fieldnames or [])}")
        points = []
        for row in reader:
            try:
                single, multi = float(row["single"]), float(row["multi"])
            except (TypeError, ValueError):
                raise SystemExit(f"{path}:{reader.line_num}: single and multi must be numbers") from None
            if not (0 <= single <= 100 and 0 <= multi <= 100):
                raise SystemExit(f"{path}:{reader.line_num}: accuracies are percentages in [0, 100]")
            points.append({"name": row["name"], "group": row["group"], "single": single, "multi": multi})
    bases = [p for p in points if p["group"] == "base"]
    if len(bases) != 1:
        raise SystemExit(f"{path}: need exactly one row with group 'base', found {len(bases)}")
    return points


def plot(points: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = next(p for p in points if p["group"] == "base")
    fig, ax = plt.subplots(figsize=(7, 4.6), dpi=110)
    goal_single, goal_multi = base["single"] - 2, base["multi"] + 15
    top = min(100, goal_multi + 8)
    ax.fill_between([goal_single, 100.5], goal_multi, top, color="#d9ead3", zorder=0)
    ax.plot([goal_single, goal_single, 100.5], [top, goal_multi, goal_multi], color="#6aa84f", linestyle="--",
            linewidth=1)
    ax.text(goal_single - 0.4, goal_multi + 1, "earlier demo goal: multi-image +15,\nsingle-image at most -2",
            fontsize=8, color="#38761d", ha="right", va="bottom")
    for colour, group in zip(PALETTE * 4, dict.fromkeys(p["group"] for p in points)):
        mine = [p for p in points if p["group"] == group]
        is_base = group == "base"
        ax.scatter([p["single"] for p in mine], [p["multi"] for p in mine], label=group,
                   color=colour, marker="*" if is_base else "o", s=140 if is_base else 36,
                   zorder=4 if is_base else 3)
        for p in mine:
            ax.annotate(p["name"], (p["single"], p["multi"]), textcoords="offset points",
                        xytext=(-4, -10) if is_base else (4, 3), ha="right" if is_base else "left", fontsize=7)
    ax.set_xlabel("single-image accuracy, synth-pope (%)")
    ax.set_ylabel("multi-image accuracy, synth-multi (%)")
    low = min(p["single"] for p in points)
    ax.set_xlim(max(0, low - 5), 100.5)
    ax.set_ylim(max(0, min(p["multi"] for p in points) - 5), top)
    ax.legend(frameon=False, loc="lower left", fontsize=8)
    ax.set_title("Reader base: DPO runs and supervised ceilings against the goal", fontsize=10)
    fig.tight_layout()
    tmp = out.with_name(f".{out.name}.tmp")
    fig.savefig(tmp, format="png")
    plt.close(fig)
    tmp.replace(out)


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        raise SystemExit("usage: plot_demo_ceiling.py POINTS.csv OUT.png")
    source, out = Path(args[0]), Path(args[1])
    if not source.is_file():
        raise SystemExit(f"{source}: no such file")
    plot(read_points(source), out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
