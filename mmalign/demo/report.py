"""The demo's report: before/after single- and multi-image accuracy, hallucination per format, pairs built.

Writes OUT/report.json, OUT/report.md and OUT/report.png (atomically) and returns the Markdown table.
Accuracies in report.json are fractions in [0, 1]; the suites' metrics.json hold percentages.
"""

from __future__ import annotations

import json
from pathlib import Path
from statistics import mean

from ..eval.mcnemar import mcnemar_exact
from ..eval.predictions import read_predictions
from ..eval.synth import answered_right, read_suite
from ..io import write_json_atomic, write_text_atomic
from ..pairs.mia import SKIPPED_BEFORE_ANSWERING
from .pipeline import CONTROL_ARMS, arm_dir
from .report_chart import FORMATS, chart

# build-data names its formats after the augmentations; the suites after what the model sees.
BUILD_FORMATS = {"sequence": "sequence", "grid_collage": "collage", "pic_in_pic": "inset"}


def _metrics(path: Path) -> dict:
    return json.loads(path.read_text())


SUITES = ("synth-multi", "synth-pope")
# What every arm reports after training (fractions); the method's rows add the per-format numbers.
ARM_KEYS = ("single_image_acc", "multi_image_acc", "multi_hallucination_rate")


def _right(seed_dir: Path, answers: Path) -> dict[str, dict[str, bool]]:
    """Per suite, id -> answered right, for the answers under `answers` to the seed's held-out questions."""
    right = {}
    for suite in SUITES:
        questions = read_suite(suite, seed_dir.parent / "suites" / seed_dir.name / suite)
        predictions, _ = read_predictions(answers / suite / "predictions.jsonl")
        right[suite] = answered_right(suite, questions, predictions)
    return right


def paired_tests(before: dict, seed_dir: Path, after: Path) -> dict:
    """McNemar's exact test per suite: the seed's before answers (`_right`) against the answers under `after`."""
    after_right = _right(seed_dir, after)
    return {suite: mcnemar_exact(before[suite], after_right[suite]) for suite in SUITES}


def _accuracies(folder: Path) -> dict:
    pope = _metrics(folder / "synth-pope" / "metrics.json")
    multi = _metrics(folder / "synth-multi" / "metrics.json")
    return {"single_image_acc": pope["overall"]["accuracy"] / 100,
            "multi_image_acc": multi["overall"]["accuracy"] / 100,
            "multi_hallucination_rate": multi["overall"]["hallucination_rate"] / 100,
            "hallucination_rate": {f: multi["subsets"][f]["hallucination_rate"] / 100 for f in FORMATS
                                   if f in multi["subsets"]},
            "multi_image_acc_per_format": {f: multi["subsets"][f]["accuracy"] / 100 for f in FORMATS
                                           if f in multi["subsets"]}}


def control_rows(before: dict, seed_dir: Path) -> dict:
    """Each control arm's after-accuracies and paired tests for one seed; arms not run are left out."""
    rows = {}
    for arm in CONTROL_ARMS:
        after = arm_dir(seed_dir, arm) / "after"
        if (after / "synth-multi" / "metrics.json").is_file():
            acc = _accuracies(after)
            rows[arm] = {"after": {k: acc[k] for k in ARM_KEYS}, "mcnemar": paired_tests(before, seed_dir, after)}
    return rows


def seed_row(seed_dir: Path) -> dict:
    row: dict = {"seed": seed_dir.name, "before": _accuracies(seed_dir / "before"),
                 "after": _accuracies(seed_dir / "after")}
    summary = _metrics(seed_dir / "pairs" / "summary.json")
    row["pairs_per_format"] = {BUILD_FORMATS.get(f, f): n for f, n in summary["pairs_per_format"].items()}
    row["processed"] = summary["processed"]
    row["dropped"] = summary["dropped"]
    row["replay"] = summary.get("replay", 0)
    before = _right(seed_dir, seed_dir / "before")  # read once, paired with every arm
    row["mcnemar"] = paired_tests(before, seed_dir, seed_dir / "after")
    row["controls"] = control_rows(before, seed_dir)
    return row


def build_report(seed_dirs: list[Path], selector: str) -> dict:
    rows = [seed_row(d) for d in seed_dirs]

    def avg(when: str, key: str, fmt: str | None = None) -> float:
        vals = [r[when][key] if fmt is None else r[when][key].get(fmt, 0.0) for r in rows]
        return round(mean(vals), 4)

    report = {"selector": selector, "seeds": len(rows)}
    for key in ARM_KEYS:
        report[key] = {"before": avg("before", key), "after": avg("after", key)}
    report["controls"] = {
        arm: {key: round(mean(r["controls"][arm]["after"][key] for r in rows), 4) for key in ARM_KEYS}
        for arm in CONTROL_ARMS if all(arm in r["controls"] for r in rows)}
    report["hallucination_rate"] = {f: {"before": avg("before", "hallucination_rate", f),
                                        "after": avg("after", "hallucination_rate", f)} for f in FORMATS}
    report["multi_image_acc_per_format"] = {f: {"before": avg("before", "multi_image_acc_per_format", f),
                                                "after": avg("after", "multi_image_acc_per_format", f)}
                                            for f in FORMATS}
    report["pairs_per_format"] = {f: round(mean(r["pairs_per_format"].get(f, 0) for r in rows), 1) for f in FORMATS}
    dropped: dict[str, float] = {}
    for r in rows:
        for reason, n in r["dropped"].items():
            dropped[reason] = dropped.get(reason, 0) + n / len(rows)
    skipped = SKIPPED_BEFORE_ANSWERING  # build-data's drops before the model answers; the rest are the selector's
    report["dropped_by_selector"] = {k: round(v, 1) for k, v in sorted(dropped.items()) if k not in skipped}
    report["skipped_before_answering"] = {k: round(v, 1) for k, v in sorted(dropped.items()) if k in skipped}
    report["replay_rows"] = round(mean(r["replay"] for r in rows), 1)
    report["per_seed"] = rows
    return report


def markdown(report: dict) -> str:
    def pct(x: float) -> str:
        return f"{100 * x:.1f}"

    lines = [f"MIA-DPO demo — {report['seeds']} seed(s), selector: {report['selector']}", "",
             "| metric | before | after | change |", "|---|---|---|---|"]
    for key, label in (("single_image_acc", "single-image accuracy (synth-pope)"),
                       ("multi_image_acc", "multi-image accuracy (synth-multi)")):
        b, a = report[key]["before"], report[key]["after"]
        lines.append(f"| {label} | {pct(b)} | {pct(a)} | {100 * (a - b):+.1f} |")
    for fmt in FORMATS:
        b, a = report["multi_image_acc_per_format"][fmt]["before"], report["multi_image_acc_per_format"][fmt]["after"]
        lines.append(f"| accuracy, {fmt} | {pct(b)} | {pct(a)} | {100 * (a - b):+.1f} |")
    b, a = report["multi_hallucination_rate"]["before"], report["multi_hallucination_rate"]["after"]
    lines.append(f"| hallucination rate, synth-multi | {pct(b)} | {pct(a)} | {100 * (a - b):+.1f} |")
    for fmt in FORMATS:
        b, a = report["hallucination_rate"][fmt]["before"], report["hallucination_rate"][fmt]["after"]
        lines.append(f"| hallucination rate, {fmt} | {pct(b)} | {pct(a)} | {100 * (a - b):+.1f} |")
    pairs = ", ".join(f"{f} {n:g}" for f, n in report["pairs_per_format"].items())
    drops = ", ".join(f"{k} {v:g}" for k, v in report["dropped_by_selector"].items()) or "none"
    skipped = ", ".join(f"{k} {v:g}" for k, v in report["skipped_before_answering"].items()) or "none"
    counts = (f"Pairs built per seed: {pairs}. Dropped by the selector per seed: {drops}. Rows skipped before "
              f"the model answered: {skipped}. Single-image replay rows: {report['replay_rows']:g}.")
    lines += ["", counts, "", *seed_table(report), *controls_table(report)]
    return "\n".join(lines) + "\n"


def _test(m: dict) -> str:
    return f"+{m['improved']} / -{m['worsened']}, p = {m['p_value']:.2g}"


def seed_table(report: dict) -> list[str]:
    """Per seed: multi-image before -> after, and McNemar's exact test per suite (questions turned right /
    turned wrong, two-sided p)."""
    lines = [("| seed | multi-image before → after | McNemar, synth-multi | single-image before → after | "
             "McNemar, synth-pope |"), "|---|---|---|---|---|"]
    for r in report["per_seed"]:
        b, a = r["before"], r["after"]
        lines.append(f"| {r['seed']} | {100 * b['multi_image_acc']:.2f} → {100 * a['multi_image_acc']:.2f} | "
                     f"{_test(r['mcnemar']['synth-multi'])} | {100 * b['single_image_acc']:.2f} → "
                     f"{100 * a['single_image_acc']:.2f} | {_test(r['mcnemar']['synth-pope'])} |")
    return lines


def controls_table(report: dict) -> list[str]:
    """The method against its controls, after training (mean of seeds, and the multi-image change per seed)."""
    if not report["controls"]:
        return []
    arms = {"mia_dpo": {k: report[k]["after"] for k in ARM_KEYS}, **report["controls"]}
    before = report["multi_image_acc"]["before"]
    lines = ["", "Controls, same seeds, steps and pairs' source (after training; the change is multi-image):", "",
             "| arm | single-image | multi-image | change | change per seed | hallucination rate, synth-multi |",
             "|---|---|---|---|---|---|"]
    for arm, acc in arms.items():
        per_seed = [(r["after"] if arm == "mia_dpo" else r["controls"][arm]["after"])["multi_image_acc"]
                    - r["before"]["multi_image_acc"] for r in report["per_seed"]]
        lines.append(f"| {arm} | {100 * acc['single_image_acc']:.1f} | {100 * acc['multi_image_acc']:.1f} | "
                     f"{100 * (acc['multi_image_acc'] - before):+.1f} | "
                     f"{' / '.join(f'{100 * d:+.1f}' for d in per_seed)} | "
                     f"{100 * acc['multi_hallucination_rate']:.1f} |")
    return lines


def write_report(seed_dirs: list[Path], out: Path, selector: str) -> str:
    report = build_report(seed_dirs, selector)
    write_json_atomic(out / "report.json", report)
    table = markdown(report)
    write_text_atomic(out / "report.md", table)
    tmp = out / ".report.png.tmp"
    tmp.write_bytes(chart(report))
    tmp.replace(out / "report.png")
    return table
