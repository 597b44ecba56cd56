"""Helpers shared by test modules (tests/ is on pytest's pythonpath)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from mmalign.config import from_dict
from mmalign.train.config import TrainConfig


def tiny_config(tmp_path, tiny_llava_path, synth_pairs, **over):
    data, root = synth_pairs
    base = {"model": str(tiny_llava_path), "data": str(data), "root": str(root), "output_dir": str(tmp_path / "run"),
            "per_device_batch_size": 4, "max_steps": 3, "learning_rate": 1e-3, "max_length": 64,
            "progress": False, "seed": 1}
    base.update(over)
    return from_dict(TrainConfig, base)


def run_quick_script(name: str, out, timeout: int) -> None:
    """Run scripts/NAME --out OUT --quick on one thread, offline; fail with its stderr's tail."""
    script = Path(__file__).resolve().parents[1] / "scripts" / name
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, str(script), "--out", str(out), "--quick"], capture_output=True,
                          text=True, env=env, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def load_script(name: str):
    """scripts/NAME.py imported as a module (scripts are not a package), to test its functions."""
    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
