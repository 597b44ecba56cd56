"""A run killed at a named point (MMALIGN_FAULT) and rerun with resume_from=latest ends with the weights and
metrics of an uninterrupted run; a disk that fills during a checkpoint gives one clear message and leaves
the previous checkpoint intact and resumable."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys

import yaml
from helpers import tiny_config
from test_train_resume import assert_same_weights

from mmalign.config import to_dict
from mmalign.train.trainer import train

COMMON = {"max_steps": 4, "save_steps": 1, "per_device_batch_size": 4}


def cli_train(config, overrides=(), fault="", file_limit=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "MMALIGN_FAULT": fault}

    def limit():  # RLIMIT_FSIZE: a write past it fails with EFBIG, as on a full disk
        if file_limit:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    return subprocess.run([sys.executable, "-m", "mmalign.cli.main", "train", str(config), *overrides],
                          capture_output=True, text=True, env=env, timeout=300, check=False, preexec_fn=limit)


def write_config(path, cfg):
    path.write_text(yaml.safe_dump(to_dict(cfg)))
    return path


def steps(run_dir):
    return [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_killed_after_a_step_or_inside_a_checkpoint_write_resumes_to_the_same_result(
        tmp_path, tiny_llava_path, synth_pairs):
    whole = train(tiny_config(tmp_path / "whole", tiny_llava_path, synth_pairs, **COMMON))
    for fault in ("optimizer-step:3", "checkpoint-write:2"):
        cfg = tiny_config(tmp_path / fault.replace(":", "-"), tiny_llava_path, synth_pairs, **COMMON)
        config = write_config(tmp_path / f"{fault.replace(':', '-')}.yaml", cfg)
        killed = cli_train(config, fault=fault)
        assert killed.returncode == -signal.SIGKILL
        run = tmp_path / fault.replace(":", "-") / "run"
        if fault.startswith("checkpoint-write"):
            assert not (run / "checkpoint-2").exists() and (run / "checkpoint-1" / "trainer_state.json").is_file()
        again = cli_train(config, ["resume_from=latest"])
        assert again.returncode == 0, again.stderr[-3000:]
        assert_same_weights(whole.final_dir, run / "final")
        assert steps(run) == [1, 2, 3, 4]  # none duplicated, none missing


def test_a_full_disk_during_a_checkpoint_is_one_clear_message(tmp_path, tiny_llava_path, synth_pairs):
    whole = train(tiny_config(tmp_path / "whole", tiny_llava_path, synth_pairs, **COMMON))
    config = write_config(tmp_path / "c.yaml", tiny_config(tmp_path, tiny_llava_path, synth_pairs, **COMMON))
    run = tmp_path / "run"
    assert cli_train(config, fault="optimizer-step:2").returncode == -signal.SIGKILL  # checkpoint-1 written
    limit = (run / "checkpoint-1" / "model.safetensors").stat().st_size // 2  # logs fit; model weights do not
    full = cli_train(config, ["resume_from=latest"], file_limit=limit)
    assert full.returncode == 1
    message = [line for line in full.stderr.splitlines() if line.startswith("error:")]
    assert len(message) == 1 and "could not write" in message[0] and "disk full" in message[0], full.stderr[-2000:]
    assert "checkpoint-1 is intact" in message[0] and "Traceback" not in full.stderr
    again = cli_train(config, ["resume_from=latest"])  # space freed: the run finishes from checkpoint-1
    assert again.returncode == 0, again.stderr[-3000:]
    assert_same_weights(whole.final_dir, run / "final")
    assert steps(run) == [1, 2, 3, 4]
