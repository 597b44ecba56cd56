"""The DID command's outputs, each written atomically: OUT/did.jsonl (the input's records with the DID fields),
OUT/report.json, OUT/report.md and OUT/did.png."""

from __future__ import annotations

from pathlib import Path

from ..io import write_json_atomic, write_jsonl_atomic, write_text_atomic
from .charts import pyplot, save_figure

DID_FILE, REPORT_JSON, REPORT_MD, CHART = "did.jsonl", "report.json", "report.md", "did.png"


def _fmt(stats: dict) -> str:
    if not stats.get("n"):
        return "-"
    return " / ".join(f"{stats[k]:.3f}" for k in ("mean", "p10", "median", "p90"))


def render_markdown(report: dict) -> str:
    head = ["# Differential Information diagnostics", "",
            (f"Data: `{report.get('data', '-')}`; policy: `{report.get('model', '-')}`; reference: "
            f"`{report.get('ref', '-')}`; beta = {report['beta']}."), ""]
    if report["kind"] == "pairs":
        lines = head + [f"{report['pairs']} pairs. Numbers are mean / p10 / median / p90.", "",
                        "| quantity | value |", "|---|---|",
                        f"| r_chosen = log pi(y_w) - log pi_ref(y_w) | {_fmt(report['r_chosen'])} |",
                        f"| r_rejected | {_fmt(report['r_rejected'])} |",
                        f"| margin = r_chosen - r_rejected = log q(y_w) - log q(y_l) | {_fmt(report['margin'])} |",
                        f"| margin per token | {_fmt(report['margin_per_token'])} |",
                        f"| p_chosen = sigmoid(beta * margin) | {_fmt(report['p_chosen'])} |",
                        f"| share of pairs with margin > 0 | {report['margin_positive_share']:.3f} |"]
        if "pairs_without_candidates" in report:
            lines.append(f"| pairs whose prompt has no candidates | {report['pairs_without_candidates']} |")
        return "\n".join(lines + ["", "Per pair: `meta.did` in did.jsonl (docs/data-quality.md).", ""])
    lines = head + [(f"{report['prompts']} prompts, {report['candidates']} candidates; entropy estimator "
                    f"`{report['estimator']}`. Numbers are mean / p10 / median / p90."), "",
                    "| quantity | value |", "|---|---|", f"| DID entropy (nats) | {_fmt(report['entropy'])} |"]
    if report["estimator"] == "samples":
        lines += [f"| normalised entropy (entropy / log distinct answers) | {_fmt(report['entropy_normalised'])} |",
                  f"| prompts with one distinct answer | {report['single_answer_prompts']} |"]
    else:
        lines.append(f"| effective sample size | {_fmt(report['ess'])} |")
    return "\n".join(lines + ["", "Per prompt: `meta.did`; per candidate: `candidates[k].did` in did.jsonl.", ""])


def draw_chart(rows: list[dict], report: dict, path: str | Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    if report["kind"] == "pairs":
        ax.hist([r["meta"]["did"]["margin"] for r in rows], bins=30, color="tab:blue")
        ax.axvline(0, color="grey", linestyle="--", linewidth=1)
        ax.set_xlabel("margin = log q(chosen) - log q(rejected)")
        ax.set_ylabel("pairs")
    else:
        key = "entropy_normalised" if report["estimator"] == "samples" else "entropy"
        values = [r["meta"]["did"][key] for r in rows if r["meta"]["did"].get(key) is not None]
        ax.hist(values, bins=30, color="tab:purple")
        ax.set_xlabel(f"DID {key.replace('_', ' ')} per prompt ({report['estimator']})")
        ax.set_ylabel("prompts")
    ax.set_title("Differential Information")
    save_figure(fig, path)


def write_outputs(rows: list[dict], report: dict, out: str | Path) -> None:
    out = Path(out)
    write_jsonl_atomic(out / DID_FILE, rows)
    write_json_atomic(out / REPORT_JSON, report)
    write_text_atomic(out / REPORT_MD, render_markdown(report))
    draw_chart(rows, report, out / CHART)
