"""The demo report's chart: before/after bars, and beside them, when the controls ran, multi-image accuracy per
arm with each seed's value as a dot (the spread between seeds is as large as the effects, so the means alone
would mislead)."""

from __future__ import annotations

import io

FORMATS = ("sequence", "collage", "inset")
ARM_LABELS = {"mia_dpo": "MIA-DPO", "nll_only": "NLL only", "random_selection": "random\nselection"}


def _before_after(ax, report: dict) -> None:
    labels = ["single-image\naccuracy", "multi-image\naccuracy"] + [f"halluc.\n{f}" for f in FORMATS]
    rows = {when: [report["single_image_acc"][when], report["multi_image_acc"][when]]
            + [report["hallucination_rate"][f][when] for f in FORMATS] for when in ("before", "after")}
    x = range(len(labels))
    ax.bar([i - 0.2 for i in x], [100 * v for v in rows["before"]], width=0.4, label="before (SFT)", color="#9aa5b1")
    ax.bar([i + 0.2 for i in x], [100 * v for v in rows["after"]], width=0.4, label="after (MIA-DPO)", color="#2f6fb0")
    ax.set_xticks(list(x), labels)
    ax.set_ylabel("%")
    ax.set_ylim(0, 100)
    ax.set_title(f"MIA-DPO in miniature ({report['seeds']} seed(s), {report['selector']} selection)")
    ax.legend(frameon=False)


def _arms(ax, report: dict) -> None:
    seeds = report["per_seed"]
    columns = [("before", [r["before"]["multi_image_acc"] for r in seeds], "#9aa5b1"),
               ("mia_dpo", [r["after"]["multi_image_acc"] for r in seeds], "#2f6fb0")]
    columns += [(arm, [r["controls"][arm]["after"]["multi_image_acc"] for r in seeds], "#c9a227")
                for arm in report["controls"]]
    for i, (name, values, colour) in enumerate(columns):
        ax.bar(i, 100 * sum(values) / len(values), width=0.6, color=colour)
        ax.plot([i] * len(values), [100 * v for v in values], "o", color="black", markersize=3)
    ax.set_xticks(range(len(columns)), [ARM_LABELS.get(n, n) for n, _, _ in columns])
    low = min(min(v) for _, v, _ in columns)
    ax.set_ylim(max(0, 100 * low - 5), min(100, 100 * max(max(v) for _, v, _ in columns) + 3))
    ax.set_ylabel("multi-image accuracy, %")
    ax.set_title("against the controls (dots: seeds)")


def chart(report: dict) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if report.get("controls"):
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8), dpi=110, gridspec_kw={"width_ratios": [5, 3]})
        _arms(right, report)
    else:
        fig, left = plt.subplots(figsize=(8, 3.6), dpi=110)
    _before_after(left, report)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
