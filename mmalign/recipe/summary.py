"""summary.csv and summary.png: one row per finished round, read back from the stages' files (so a resumed
recipe writes the same summary as an uninterrupted one).

Columns:
  iteration, policy (= the round's reference), next_policy
  prompts, candidates          what the policy answered
  pairs                        pairs the round's training read (Curry-DPO: ranked prompts before staging)
  judge_gap                    mean chosen-minus-rejected judge score over those pairs
  judge_agreement              with several judges: how often two judges order two answers of one prompt
                               the same way (ties on either side left out); empty with one judge
  oracle_agreement             where prompts carry a known `reference`: how often the oracle also prefers
                               the chosen answer (ties count half)
  sample_oracle                mean oracle score (0-10) of the policy's answers: the policy's quality
  heldout_reward_accuracy      the last training's reward accuracy on eval_data, when given
  final_loss                   the last training's last logged loss
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..io import read_jsonl, write_text_atomic
from ..judge.oracle import OracleJudge
from ..pairs.agreement import judge_agreement
from .plans import Plan, Round

COLUMNS = ["iteration", "policy", "next_policy", "prompts", "candidates", "pairs", "judge_gap", "judge_agreement",
           "oracle_agreement", "sample_oracle", "heldout_reward_accuracy", "final_loss"]
ORACLE = OracleJudge()


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def oracle_agreement(pairs: list[dict]) -> float | None:
    votes = []
    for pair in pairs:
        ref = pair.get("reference")
        if isinstance(ref, str):
            c, r = ORACLE.truth_score(pair["chosen"], ref), ORACLE.truth_score(pair["rejected"], ref)
            votes.append(1.0 if c > r else 0.5 if c == r else 0.0)
    return _mean(votes)


def sample_oracle(candidates: list[dict]) -> float | None:
    return _mean([ORACLE.truth_score(c["text"], r["reference"]) for r in candidates
                  if isinstance(r.get("reference"), str) for c in r["candidates"]])


def _read(path: str) -> list[dict]:
    return read_jsonl(path) if path and Path(path).is_file() else []


def round_row(rnd: Round, out: Path) -> dict[str, Any]:
    candidates, scored, pairs = _read(rnd.candidates), _read(rnd.scored), _read(rnd.pairs)
    last = out / rnd.trains[-1]
    eval_file, metrics = last / "eval.json", _read(str(last / "metrics.jsonl"))
    heldout = json.loads(eval_file.read_text())["reward_accuracy"] if eval_file.is_file() else None
    gaps = [p["scores"]["chosen"] - p["scores"]["rejected"] for p in pairs if "scores" in p]
    return {"iteration": rnd.iteration, "policy": rnd.policy, "next_policy": rnd.next_policy,
            "prompts": len(candidates), "candidates": sum(len(r["candidates"]) for r in candidates),
            "pairs": len(pairs), "judge_gap": _mean(gaps), "judge_agreement": (judge_agreement(scored) or {}).get("overall"),
            "oracle_agreement": oracle_agreement(pairs), "sample_oracle": sample_oracle(candidates),
            "heldout_reward_accuracy": heldout, "final_loss": round(metrics[-1]["loss"], 4) if metrics else None}


def write_summary(cfg, plan: Plan, out: Path, upto: int) -> list[dict[str, Any]]:
    rows = [round_row(rnd, out) for rnd in plan.rounds if rnd.iteration <= upto]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows([{k: "" if v is None else v for k, v in row.items()} for row in rows])
    write_text_atomic(out / "summary.csv", buf.getvalue())
    chart(rows, out / "summary.png", f"{cfg.recipe}: {out}")
    return rows


def chart(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import temp_file_beside

    panels = [("pairs", "pairs made"), ("judge_gap", "chosen - rejected (judge)"),
              ("oracle_agreement", "oracle agrees with the pair"), ("sample_oracle", "policy's answers, oracle 0-10")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2))
    xs = [r["iteration"] for r in rows]
    for ax, (key, label) in zip(axes, panels):
        ys = [r[key] for r in rows]
        if any(y is not None for y in ys):
            ax.plot([x for x, y in zip(xs, ys) if y is not None], [y for y in ys if y is not None], marker="o")
        else:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("round")
        ax.set_xticks(xs)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fd, tmp = temp_file_beside(path)
    with open(fd, "wb") as f:
        fig.savefig(f, format="png", dpi=90)
    plt.close(fig)
    Path(tmp).replace(path)
