"""The recipe miniature's reporting (scripts/recipe_miniature.py, docs/recipe_miniature.md): means, the
per-round SPPO win rates the acceptance criterion reads, the CSV and the chart."""

from __future__ import annotations

import csv
import io
from itertools import pairwise
from pathlib import Path

from mmalign.io import write_text_atomic

RECIPES = ("self_rewarding", "temporal_self_rewarding", "sppo")


def mean(values) -> float:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else float("nan")


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(text: str):
    return float(text) if text not in ("", None) else None


def rounds_of(rows: list[dict], recipe: str, key: str = "win_rate_vs_start") -> dict:
    """`key` per round (0 = the start) for each seed and their mean, and whether the mean and every seed rise
    every round: the criterion "raises the oracle win rate against the start each iteration"."""
    seeds = sorted({r["seed"] for r in rows if r["recipe"] == recipe})
    per_seed = {seed: [r[key] for r in sorted(rows, key=lambda r: r["iteration"])
                       if r["recipe"] == recipe and r["seed"] == seed] for seed in seeds}
    means = [mean(vals) for vals in zip(*per_seed.values())] if per_seed else []

    def rises(vals):
        return all(b > a for a, b in pairwise(vals))

    return {"mean": means, "seeds": {str(k): v for k, v in per_seed.items()}, "mean_rises": rises(means),
            "every_seed_rises": all(rises(v) for v in per_seed.values())}


def write_csv(rows: list[dict], path: Path) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows([{k: "" if v is None else v for k, v in r.items()} for r in rows])
    write_text_atomic(path, buf.getvalue())


def chart(rows: list[dict], starts: dict[str, float], path: Path, title: str) -> None:
    """Three panels (judge gap, held-out oracle score, win rate vs start), a thin line per seed and the mean
    bold; `starts` is each recipe's starting score (SPPO has its own, weaker start)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("judge_gap", "chosen - rejected, self-judge (1-5)", RECIPES[:2]),
              ("heldout_graded", "held-out oracle score (0-4) after round", RECIPES),
              ("win_rate_vs_start", "oracle win rate vs its start (ties 1/2)", RECIPES)]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, (key, label, recipes) in zip(axes, panels):
        for recipe in recipes:
            colour = f"C{RECIPES.index(recipe)}"
            for seed in sorted({r["seed"] for r in rows}):
                pts = [(r["iteration"], r[key]) for r in rows if r["recipe"] == recipe and r["seed"] == seed
                       and r[key] is not None]
                if pts:
                    ax.plot(*zip(*pts), color=colour, alpha=0.3, lw=1)
            its = sorted({r["iteration"] for r in rows if r["recipe"] == recipe and r[key] is not None})
            means = [mean(r[key] for r in rows if r["recipe"] == recipe and r["iteration"] == t
                          and r[key] is not None) for t in its]
            ax.plot(its, means, color=colour, marker="o", lw=2, label=recipe)
        if key == "heldout_graded":
            for k, (name, value) in enumerate(sorted(starts.items())):
                ax.axhline(value, color="grey", ls=("--", ":")[k % 2], lw=1, label=name)
        if key == "win_rate_vs_start":
            ax.axhline(0.5, color="grey", ls="--", lw=1)
        ax.set_title(label, fontsize=9)
        ax.set_xticks(sorted({r["iteration"] for r in rows}))  # rounds are whole numbers
        ax.set_xlabel("round")
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
