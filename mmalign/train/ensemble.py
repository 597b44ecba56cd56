"""Reward-model ensembles (Secrets of RLHF II, docs/research/objectives.md section 10): M reward models trained
from one config, each with its own seed and half of the data; then every pair scored by every member into
`scores.reward_models` (ensemble_scores.py), which the `preference_strength` transform reads.

    result = run_ensemble(cfg, "runs/ens", members=4)     # what `mmalign reward-ensemble` runs
    result.scored                                         # runs/ens/scored.jsonl

Halves. Members come in complementary pairs: members 2j and 2j+1 split one random permutation of the
records (seeded by the config's seed and j), 2j taking the first floor(N/2) and 2j+1 the rest; with M odd the
last member takes the first half of its own permutation. With M even every record is in the training half of
exactly M/2 members and held out from the other M/2. Each half keeps the file's record order (the trainer
shuffles with the member's seed). Member m trains with seed = the config's seed + m, which also seeds a
tiny model's random weights and the value head.

OUT holds data/ (the synthetic world's files, when the config's data is synthetic), halves/member-M.jsonl,
member-M/ (an ordinary training run, plus ensemble_member.json), scored.jsonl and ensemble.json. A finished
member whose resolved config and half match is skipped on a rerun; a member stopped part-way resumes from its
newest checkpoint (when save_steps wrote one); a member whose config changed is trained again from scratch.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from ..config import to_dict
from ..data.reader import read_records
from ..errors import ConfigError, MMAlignError
from ..io import write_json_atomic, write_jsonl_atomic
from .config import TrainConfig
from .precompute import file_digest
from .setup import SYNTHETIC, resolve_data

MARKER = "ensemble_member.json"
SUMMARY = "ensemble.json"
SCORED = "scored.jsonl"
# Keys that do not change what a member learns: a rerun may differ in them.
NOT_COMPARED = ("resume_from", "progress", "report_to", "logging_steps")


def ensemble_halves(n: int, members: int, seed: int) -> list[list[int]]:
    """Record indices each member trains on (see the module docstring): complementary halves per pair."""
    halves = []
    for m in range(members):
        order = list(range(n))
        random.Random(f"mmalign-ensemble-halves-{seed}-{m // 2}").shuffle(order)
        halves.append(sorted(order[: n // 2] if m % 2 == 0 else order[n // 2:]))
    return halves


@dataclass
class Member:
    index: int
    seed: int
    folder: Path
    pairs: int  # records in its half
    eval: dict | None  # held-out accuracy and margin (eval.json), when the config has eval_data
    skipped: bool  # finished before, config unchanged

    @property
    def final(self) -> Path:
        return self.folder / "final"


@dataclass
class EnsembleResult:
    members: list[Member]
    scored: Path  # OUT/scored.jsonl: the scored records with scores.reward_models
    root: Path  # the scored records' media root
    eval_file: Path | None  # the resolved held-out file, if any
    summary: dict  # what OUT/ensemble.json holds


def check_base_config(cfg: TrainConfig, members: int) -> None:
    """Refuse, before anything trains, what an ensemble cannot be built from."""
    if members < 2:
        raise ConfigError(f"--members: an ensemble needs at least 2 reward models (the strength's spread), got "
                          f"{members}")
    if cfg.head != "value":
        raise ConfigError("reward-ensemble trains reward models: the config needs head: value and a reward-model "
                          "loss (loss.name=bt); see docs/reward-models.md")
    if cfg.data_format != "preference":
        raise ConfigError("reward-ensemble: data_format must be preference (chosen/rejected pairs)")
    if cfg.resume_from:
        raise ConfigError("reward-ensemble: resume_from is set per member; rerun the same command to resume")


def _compared(cfg: TrainConfig) -> dict:
    return {k: v for k, v in to_dict(cfg).items() if k not in NOT_COMPARED}


def _marker(folder: Path) -> dict | None:
    path = folder / MARKER
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None  # torn: treat the member as unknown (trained again)


def _changed_keys(before: dict, now: dict) -> list[str]:
    old, new = before.get("config", {}), now["config"]
    keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    return keys + (["data (the half's records)"] if before.get("half_digest") != now["half_digest"] else [])


def _train_member(cfg: TrainConfig, m: int, members: int, half: Path, pairs: int) -> Member:
    from .trainer import train  # heavy imports only when a member trains

    folder = Path(cfg.output_dir)
    want = {"member": m, "config": _compared(cfg), "half_digest": file_digest(half), "finished": False}
    before = _marker(folder)
    label = f"member {m + 1}/{members} ({folder}, seed {cfg.seed}, {pairs} pairs)"
    same = before is not None and not _changed_keys(before, want)
    if same and before.get("finished") and (folder / "final").is_dir():
        print(f"{label}: finished before with this config, skipped")
        return Member(m, cfg.seed, folder, pairs, before.get("eval"), skipped=True)
    if same and any(folder.glob("checkpoint-*")):
        print(f"{label}: resuming from its newest checkpoint")
        cfg = replace(cfg, resume_from="latest")
    else:
        if before is None and folder.is_dir() and any(folder.iterdir()):
            raise MMAlignError(f"{folder}: exists but holds no {MARKER}, so it is not an ensemble member this "
                               "command started; move it away or give another --out")
        why = "training" if before is None else ("stopped before its first checkpoint; training it again" if same
                                                 else f"config changed ({', '.join(_changed_keys(before, want))}); "
                                                      "training it again")
        print(f"{label}: {why}")
        if folder.exists():
            shutil.rmtree(folder)  # ours (it holds the marker): stale checkpoints, base model and score parts
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / MARKER, want)
    result = train(cfg)
    write_json_atomic(folder / MARKER, {**want, "finished": True, "eval": result.eval})
    return Member(m, cfg.seed, folder, pairs, result.eval, skipped=False)


def train_members(cfg: TrainConfig, out: str | Path, members: int) -> tuple[list[Member], Path, Path, Path | None]:
    """Train (or reuse) the M members; returns them, the resolved training file, its media root and the
    resolved held-out file (or None)."""
    check_base_config(cfg, members)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    train_file, root, eval_file = resolve_data(cfg, out)  # synthetic data: written once, into OUT/data
    records, bad = read_records(train_file, root, cfg.on_bad_record, progress=cfg.progress)
    if bad.total:
        print(f"{train_file}: {bad.summary()}")
    if len(records) < 2 * members:
        raise MMAlignError(f"{train_file}: {len(records)} usable records are too few for {members} members "
                           f"(each trains on half)")
    # Members share the resolved held-out file when its media sit under the data's root (the trainer reads a
    # held-out file given by path with that root); else each member writes its own synthetic split.
    eval_data = str(eval_file) if eval_file else ""
    if eval_file is not None and cfg.eval_data in SYNTHETIC and Path(eval_file).parent != Path(root):
        eval_data = cfg.eval_data
    result = []
    for m, half in enumerate(ensemble_halves(len(records), members, cfg.seed)):
        half_file = out / "halves" / f"member-{m}.jsonl"
        write_jsonl_atomic(half_file, [records[i].raw for i in half])
        member_cfg = replace(cfg, seed=cfg.seed + m, output_dir=str(out / f"member-{m}"), data=str(half_file),
                             root=str(root), eval_data=eval_data, resume_from="")
        result.append(_train_member(member_cfg, m, members, half_file, len(half)))
    return result, Path(train_file), Path(root), eval_file


def run_ensemble(cfg: TrainConfig, out: str | Path, members: int = 4, *, score_file: str | Path | None = None,
                 score_root: str | Path | None = None) -> EnsembleResult:
    """Train the members, score every pair of `score_file` (default: the config's training data) with each,
    and write OUT/scored.jsonl and OUT/ensemble.json."""
    from .ensemble_scores import score_pairs

    out = Path(out)
    trained, train_file, root, eval_file = train_members(cfg, out, members)
    data = Path(score_file) if score_file else train_file
    data_root = Path(score_root) if score_root else (data.parent if score_file else root)
    stats = score_pairs(data, data_root, [m.final for m in trained], out / SCORED, video_frames=cfg.video_frames,
                        progress=cfg.progress)
    summary = {"members": [{"index": m.index, "seed": m.seed, "folder": str(m.folder), "pairs": m.pairs,
                            "heldout_accuracy": (m.eval or {}).get("reward_accuracy"), "skipped": m.skipped}
                           for m in trained],
               "scored": {"data": str(data), "root": str(data_root), "out": str(out / SCORED), **stats},
               "halves": "complementary pairs: members 2j and 2j+1 split one seeded permutation"}
    write_json_atomic(out / SUMMARY, summary)
    return EnsembleResult(trained, out / SCORED, data_root, eval_file, summary)
