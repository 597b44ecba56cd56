"""The video experiment's results: the perturbation sampler's choices, loss curves, per-subset metrics and
the markdown table (scripts/video_experiment.py, docs/video_experiment.md)."""

from __future__ import annotations

import json
from pathlib import Path

from mmalign.data.synth.video_suite import VIDEO_SUBSETS


def sampler_summary(history: list[dict], floor: float) -> dict:
    """How far the candidates were from the original clip and which perturbations were picked."""
    import numpy as np

    if not history:
        return {}
    dist = np.concatenate([h["distances"].reshape(-1) for h in history])
    per_name: dict[str, list[float]] = {}
    picked: dict[str, int] = {}
    for h in history:
        for row, names, pick in zip(h["distances"], h["names"], h["picked"]):
            for d, n in zip(row, names):
                per_name.setdefault(n, []).append(float(d))
            picked[names[pick]] = picked.get(names[pick], 0) + 1
    return {"candidates": int(dist.size), "below_floor": float((dist < floor).mean()),
            "distance_median": float(np.median(dist)),
            "distance_by_perturbation": {n: float(np.median(v)) for n, v in sorted(per_name.items())},
            "picked": dict(sorted(picked.items()))}


def loss_curve(run_dir: Path) -> list[dict]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [{k: row[k] for k in ("step", "loss", "reward_accuracy") if k in row} for row in rows]


# --------------------------------------------------------------------------------------- results

def summary(metrics: dict) -> dict:
    def pick(group):
        return {k: round(group[k], 2) for k in ("accuracy", "paired_accuracy", "hallucination_rate", "yes_ratio")}

    return {"overall": pick(metrics["overall"]),
            "subsets": {s: pick(metrics["subsets"][s]) for s in VIDEO_SUBSETS if s in metrics["subsets"]}}


def results_markdown(res: dict, suite_seed: int) -> str:
    lines = ["| model | subset | accuracy | paired accuracy | hallucination rate | yes ratio |",
             "|---|---|---:|---:|---:|---:|"]
    for name, label in (("sft", "SFT (before)"), ("vdpo", "VDPO (after)"), ("pami_vdpo", "PaMi-VDPO (after)")):
        s = res["models"][name]
        for subset, group in [("all", s["overall"]), *s["subsets"].items()]:
            lines.append(f"| {label} | {subset} | {group['accuracy']:.1f} | {group['paired_accuracy']:.1f} | "
                         f"{group['hallucination_rate']:.1f} | {group['yes_ratio']:.1f} |")
    d = res["paired_accuracy_change"]
    change = ", ".join(f"{label} {d[m]['before']:.1f} -> {d[m]['after']:.1f} ({d[m]['after'] - d[m]['before']:+.1f})"
                       for m, label in (("vdpo", "VDPO"), ("pami_vdpo", "PaMi-VDPO")))
    suite = (f"Held-out suite: {res['suite']['questions']} questions on {res['suite']['clips']} clips "
             f"(seed {suite_seed}); wall time {res['wall_seconds'] / 60:.1f} min.")
    lines += ["", f"Paired accuracy (mean over subsets), before -> after: {change}.", suite]
    return "\n".join(lines) + "\n"
