"""The probe's outputs: OUT/report.json, OUT/report.md and OUT/probe.png, each written atomically."""

from __future__ import annotations

from pathlib import Path

from ..io import write_json_atomic, write_text_atomic
from .charts import pyplot, save_figure
from .probe import ProbeResult

REPORT_JSON, REPORT_MD, CHART = "report.json", "report.md", "probe.png"


def _row(name: str, m: dict) -> str:
    if "skipped" in m:
        return f"| {name} | {m.get('pairs', '-')} pairs | - | - | - | - | - | skipped: {m['skipped']} |"
    return (f"| {name} | {m['train_pairs']} / {m['test_pairs']} | {m['train_prompts']} / {m['test_prompts']} | "
            f"{m['accuracy']:.3f} | {m['auroc']:.3f} | {m['pair_accuracy']:.3f} | {m['train_accuracy']:.3f} | |")


def render_markdown(report: dict) -> str:
    layer = report["layer"]
    where = "the last (after the final norm)" if layer in (-1, report["hidden_layers"] - 1) else f"{layer}"
    lines = ["# Separability probe", "",
             (f"Data: `{report.get('data', '-')}`; model: `{report.get('model', '-')}`; hidden state layer {where} "
             f"of 0..{report['hidden_layers'] - 1}."),
             (f"{report['pairs']} pairs from {report['prompts']} prompts; probe: L2 logistic regression, C = "
             f"{report['c']}; split by prompt, {report['test_fraction']:.0%} of prompts held out (seed "
             f"{report['seed']})."), "",
             ("Held-out accuracy and AUROC near 0.5: chosen and rejected answers are not linearly separable (what "
             "one model's own samples give). Near 1.0: a linear cue tells them apart, and DPO can learn that cue "
             "instead of the preference (docs/data-quality.md)."), ""]
    for pool, res in report["results"].items():
        lines += [f"## pooling: {pool}", "",
                  ("| group | train / test pairs | train / test prompts | accuracy | AUROC | pair accuracy | "
                  "train accuracy | |"), "|---|---:|---:|---:|---:|---:|---:|---|",
                  _row("all", res["all"])]
        lines += [_row(f"source: {src}", m) for src, m in res.get("by_source", {}).items()]
        lines.append("")
    return "\n".join(lines)


def draw_chart(result: ProbeResult, path: str | Path) -> None:
    """Left: held-out AUROC per group and pooling (chance at 0.5). Right: the held-out probe logits of chosen
    and rejected answers (first pooling, all pairs)."""
    plt = pyplot()
    report = result.report
    pools = list(report["results"])
    groups = ["all"] + list(report["results"][pools[0]].get("by_source", {}))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / len(pools)
    for i, pool in enumerate(pools):
        res = report["results"][pool]
        values = [res["all"]["auroc"]] + [m.get("auroc", 0.0) for m in res.get("by_source", {}).values()]
        left.bar([g + i * width for g in range(len(groups))], values, width, label=pool)
    left.axhline(0.5, color="grey", linestyle="--", linewidth=1, label="chance")
    left.set_xticks([g + width * (len(pools) - 1) / 2 for g in range(len(groups))])
    left.set_xticklabels(groups, rotation=20, ha="right")
    left.set_ylim(0, 1.05)
    left.set_ylabel("held-out AUROC")
    left.set_title("chosen vs rejected, linear probe")
    left.legend(fontsize="small")
    first = result.decisions[pools[0]]
    for side, colour in (("chosen", "tab:green"), ("rejected", "tab:red")):
        right.hist(first[side].numpy(), bins=30, alpha=0.55, color=colour, label=side)
    right.set_xlabel(f"probe logit (held-out, pooling {pools[0]})")
    right.set_ylabel("answers")
    right.legend(fontsize="small")
    save_figure(fig, path)


def write_outputs(result: ProbeResult, out: str | Path) -> None:
    out = Path(out)
    write_json_atomic(out / REPORT_JSON, result.report)
    write_text_atomic(out / REPORT_MD, render_markdown(result.report))
    draw_chart(result, out / CHART)
