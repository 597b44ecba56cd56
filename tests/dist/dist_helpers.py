"""Run `mmalign train` in 1 or N CPU processes (torchrun + gloo) and compare what the runs wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
import yaml
from safetensors.torch import load_file

# Metrics that depend on the world size by construction (timings) are left out of comparisons.
TIMING = {"samples/s", "tokens/s"}


def write_config(path: Path, tiny_llava_path, synth_pairs, **over) -> Path:
    data, root = synth_pairs
    cfg = {"model": str(tiny_llava_path), "data": str(data), "root": str(root), "per_device_batch_size": 2,
           "gradient_accumulation_steps": 1, "max_steps": 3, "learning_rate": 1e-3, "max_length": 64,
           "progress": False, "seed": 1, "lr_scheduler": "linear", "warmup_steps": 1}
    cfg.update(over)
    path.write_text(yaml.safe_dump(cfg))
    return path


def run_train(config: Path, overrides: list[str], nproc: int = 1, env: dict | None = None,
              timeout: int = 180) -> subprocess.CompletedProcess:
    """`mmalign train CONFIG ...` in `nproc` processes; torchrun's --standalone picks a free port."""
    launcher = ([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc)]
                if nproc > 1 else [sys.executable])
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                **(env or {})}
    proc = subprocess.run([*launcher, "-m", "mmalign.cli.main", "train", str(config), *overrides],
                          check=False, capture_output=True, text=True, env=full_env, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return proc


def metrics(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


def assert_same_metrics(a: list[dict], b: list[dict], rel=1e-4, abs_=1e-5) -> None:
    assert len(a) == len(b) and a, (len(a), len(b))
    for ra, rb in zip(a, b):
        assert ra.keys() == rb.keys()
        for k in ra:
            va, vb = ra[k], rb[k]
            assert abs(va - vb) <= abs_ + rel * abs(vb), (ra["step"], k, va, vb)


def weights(folder: Path) -> dict[str, torch.Tensor]:
    out = {}
    for f in sorted(folder.glob("*.safetensors")):
        out.update(load_file(str(f)))
    return out


def assert_same_weights(a: Path, b: Path, atol=1e-5) -> None:
    wa, wb = weights(a), weights(b)
    assert wa and wa.keys() == wb.keys()
    for k in wa:
        assert torch.allclose(wa[k].float(), wb[k].float(), atol=atol, rtol=1e-4), (
            k, float((wa[k].float() - wb[k].float()).abs().max()))
