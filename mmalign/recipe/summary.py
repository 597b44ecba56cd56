"""summary.csv and summary.png: one row per finished round, read back from the stages' files (so a resumed
recipe writes the same summary as an uninterrupted one).

Columns:
  iteration, policy (= the round's reference), next_policy
  prompts, candidates          what the policy answered
  pairs                        pairs the round's training read (Curry-DPO: ranked prompts before staging)
  judge_gap                    mean chosen-minus-rejected judge score over those pairs
  judge_agreement              with several judges: how often two judges order two answers of one prompt
                               the same way (ties on either side left out); empty with one judge
  oracle_agreement             where prompts carry a known `reference`: how often the `oracle` judge also
                               prefers the chosen answer (ties count half)
  sample_oracle                mean `oracle` score of the policy's sampled answers: the round's starting policy
  heldout_oracle               with heldout_prompts: mean `oracle` score of next_policy's greedy answers
  heldout_win_rate             ... how often they beat the starting model's answers to the same prompts
                               (ties count half)
  heldout_reward_accuracy      the last training's reward accuracy on eval_data, when given
  final_loss                   the last training's last logged loss

`oracle` is the recipe's `oracle` judge spec (default `oracle`: one answer word on 0-10; `graded` counts
attributes right); it must grade against `reference`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..io import read_jsonl, write_text_atomic
from ..judge import build_judge
from ..pairs.agreement import judge_agreement
from .plans import Plan, Round

COLUMNS = ["iteration", "policy", "next_policy", "prompts", "candidates", "pairs", "judge_gap", "judge_agreement",
           "oracle_agreement", "sample_oracle", "heldout_oracle", "heldout_win_rate", "heldout_reward_accuracy",
           "final_loss"]
Grades = Callable[[list[dict]], list[list[float | None]]]  # candidate records -> a grade per candidate


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def oracle_agreement(pairs: list[dict], grade: Grades) -> float | None:
    both = [{"id": p.get("id", ""), "reference": p["reference"], "candidates": [{"text": p["chosen"]},
                                                                                {"text": p["rejected"]}]}
            for p in pairs if isinstance(p.get("reference"), str)]
    votes = [1.0 if c > r else 0.5 if c == r else 0.0 for c, r in grade(both) if None not in (c, r)]
    return _mean(votes)


def sample_oracle(candidates: list[dict], grade: Grades) -> float | None:
    return _mean([g for row in grade([r for r in candidates if isinstance(r.get("reference"), str)])
                  for g in row if g is not None])


def win_rate(answers: list[dict], start: list[dict], grade: Grades) -> float | None:
    """How often a prompt's answer grades above the starting model's (ties half), over prompts graded in both."""
    before = {r["id"]: g[0] for r, g in zip(start, grade(start)) if g and g[0] is not None}
    votes = [1.0 if g[0] > before[r["id"]] else 0.5 if g[0] == before[r["id"]] else 0.0
             for r, g in zip(answers, grade(answers)) if g and g[0] is not None and r["id"] in before]
    return _mean(votes)


def _read(path: str) -> list[dict]:
    return read_jsonl(path) if path and Path(path).is_file() else []


def round_row(rnd: Round, out: Path, grade: Grades, start: list[dict]) -> dict[str, Any]:
    candidates, scored, pairs = _read(rnd.candidates), _read(rnd.scored), _read(rnd.pairs)
    heldout = _read(rnd.heldout)
    last = out / rnd.trains[-1]
    eval_file, metrics = last / "eval.json", _read(str(last / "metrics.jsonl"))
    accuracy = json.loads(eval_file.read_text())["reward_accuracy"] if eval_file.is_file() else None
    gaps = [p["scores"]["chosen"] - p["scores"]["rejected"] for p in pairs if "scores" in p]
    return {"iteration": rnd.iteration, "policy": rnd.policy, "next_policy": rnd.next_policy,
            "prompts": len(candidates), "candidates": sum(len(r["candidates"]) for r in candidates),
            "pairs": len(pairs), "judge_gap": _mean(gaps),
            "judge_agreement": (judge_agreement(scored) or {}).get("overall"),
            "oracle_agreement": oracle_agreement(pairs, grade), "sample_oracle": sample_oracle(candidates, grade),
            "heldout_oracle": sample_oracle(heldout, grade) if heldout else None,
            "heldout_win_rate": win_rate(heldout, start, grade) if heldout and start else None,
            "heldout_reward_accuracy": accuracy, "final_loss": round(metrics[-1]["loss"], 4) if metrics else None}


def write_summary(cfg, plan: Plan, out: Path, upto: int) -> list[dict[str, Any]]:
    judge = build_judge(cfg.oracle)
    grade: Grades = judge.score
    start = _read(plan.heldout_start)
    rows = [round_row(rnd, out, grade, start) for rnd in plan.rounds if rnd.iteration <= upto]
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
              ("oracle_agreement", "oracle agrees with the pair"), ("sample_oracle", "policy's samples, oracle"),
              ("heldout_win_rate", "held-out win rate vs start")]
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
