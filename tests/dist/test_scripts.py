"""Launch scripts parse (`bash -n`) and their dry-run mode prints an estimate for the layout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
LAUNCHERS = ["launch.sh", "train_mia_dpo_llava15_7b.sh", "train_pami_vdpo_7b.sh", "train_dpo_qwen25vl_7b.sh"]


@pytest.mark.parametrize("name", LAUNCHERS)
def test_bash_syntax(name):
    out = subprocess.run(["bash", "-n", str(SCRIPTS / name)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr


def test_multi_node_dry_run_counts_all_devices():
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "DRY_RUN": "1", "GPUS": "8",
           "NUM_MACHINES": "2", "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(["bash", str(SCRIPTS / "train_mia_dpo_llava15_7b.sh")], capture_output=True, text=True,
                         env=env, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "ddp x 16 device(s)" in out.stdout and "accumulation 4" in out.stdout
