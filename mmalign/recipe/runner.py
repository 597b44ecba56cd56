"""Run a recipe's stages in order, skipping the finished ones (see stage.py for when a stage counts as
finished), and refresh the summary after every round."""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Any

import yaml

from ..config import to_dict
from ..io import write_text_atomic
from ..progress import duration
from ..train.folder_lock import FolderLock
from .config import RecipeConfig
from .plans import Plan, build_plan
from .stage import Stage, fingerprint, finished, mark_finished, start_clean
from .steps import STEPS
from .summary import write_summary


def command_line(stage: Stage, folder: Path) -> str:
    """The mmalign command a user would type for the stage, or what the stage does in words."""
    p, q = stage.params, shlex.quote
    if stage.kind == "generate":
        return (f"mmalign generate --model {q(p['model'])} --data {q(p['data'])} --root {q(p['root'])} --out "
                f"{q(str(folder))} --n {p['n']} --temperature {p['temperature']} --top-p {p['top_p']} "
                f"--max-new-tokens {p['max_new_tokens']} --seed {p['seed']}")
    if stage.kind == "score":
        judges = " ".join(f"--judge {q(j)}" for j in p["judges"])
        return f"mmalign score {judges} --data {q(p['data'])} --root {q(p['root'])} --out {q(str(folder))}"
    if stage.kind == "pairs":
        return f"mmalign pairs --data {q(p['data'])} --out {q(str(folder))} --rule {q(p['rule'])}"
    if stage.kind == "train":
        keys = " ".join(q(f"{k}={str(v).lower() if isinstance(v, bool) else v}")
                        for k, v in sorted(_flat(p["config"]).items()))
        return f"mmalign train EMPTY.yaml {keys} output_dir={q(str(folder))}  # EMPTY.yaml: a file holding {{}}"
    return {
        "slice": f"prompts {p.get('count')} of {p.get('prompts')} (round {p.get('iteration')} of a seeded shuffle)",
        "anchored": f"pairs: best of {p.get('chosen_from')} vs the worst anchored answer of {p.get('anchor')}",
        "curry-split": f"split {p.get('data')} into {p.get('stages')} stages by score gap, easy to hard",
        "merge": f"merge the LoRA adapter {p.get('model')} into its base, saved as a plain model",
    }[stage.kind]


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def describe(cfg: RecipeConfig, plan: Plan) -> str:
    lines = [f"recipe {cfg.recipe}: {len(plan.rounds)} rounds, {len(plan.stages)} stages in {cfg.output_dir}"]
    for rnd in plan.rounds:
        lines.append(f"round {rnd.iteration}: policy and reference {rnd.policy} -> {rnd.next_policy}")
    for i, stage in enumerate(plan.stages, 1):
        folder = Path(cfg.output_dir) / stage.key
        lines.append(f"[{i}/{len(plan.stages)}] {stage.key} ({stage.kind})\n    {command_line(stage, folder)}")
    return "\n".join(lines)


def run_recipe(cfg: RecipeConfig, *, dry_run: bool = False, log=print) -> Plan:
    """Run (or, with dry_run, only print) the recipe; returns its plan."""
    plan = build_plan(cfg)
    if dry_run:
        log(describe(cfg, plan))
        return plan
    out = Path(cfg.output_dir)
    lock = FolderLock(out)
    try:
        write_text_atomic(out / "recipe.yaml", yaml.safe_dump(to_dict(cfg), sort_keys=False))
        prints: dict[str, str] = {}
        last_key = {s.iteration: s.key for s in plan.stages if s.iteration > 0}  # a later stage overwrites
        last_of_round = {key: t for t, key in last_key.items()}
        for i, stage in enumerate(plan.stages, 1):
            folder = out / stage.key
            prints[stage.key] = fingerprint(stage, prints, out)
            if finished(folder, prints[stage.key]):
                log(f"[{i}/{len(plan.stages)}] {stage.key}: done earlier, skipped")
            else:
                log(f"[{i}/{len(plan.stages)}] {stage.key}: {stage.kind}")
                start = time.monotonic()
                start_clean(folder)
                result = STEPS[stage.kind](stage.params, folder)
                mark_finished(folder, stage, prints[stage.key], result)
                log(f"[{i}/{len(plan.stages)}] {stage.key}: finished in {duration(time.monotonic() - start)}")
            if stage.key in last_of_round:
                write_summary(cfg, plan, out, upto=last_of_round[stage.key])
    finally:
        lock.release()
    log(f"summary: {out / 'summary.csv'}, {out / 'summary.png'}")
    return plan

