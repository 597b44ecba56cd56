"""The launch scripts without an activated venv, and a failed multi-process launch told by its first error.

scripts/launch.sh finds the repository's .venv beside it (then python3 / python on PATH), so the 7B wrappers
run from any folder with any PATH; `DRY_RUN=1` prints the memory estimate. A launch whose ranks fail ends
with the first failing rank's error, once, instead of torch's ChildFailedError report.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mmalign.cli.main import main as cli

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
VENV_BIN = str(Path(sys.executable).parent)
needs_repo_venv = pytest.mark.skipif(not (REPO / ".venv" / "bin" / "python").is_file(),
                                     reason="the launch scripts look for the repository's .venv")


def bare_env(**extra) -> dict:
    """The environment of a new shell: the venv neither activated nor on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != Path(VENV_BIN).resolve()]
    return {**env, "PATH": os.pathsep.join(path), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(argv, cwd, env, timeout=120):
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@needs_repo_venv
def test_dry_run_from_another_folder_without_the_venv(tmp_path):
    env = bare_env(DRY_RUN="1", GPUS="8")
    out = run(["bash", str(SCRIPTS / "train_mia_dpo_llava15_7b.sh")], tmp_path, env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "ddp x 8 device(s)" in out.stdout and "accumulation 8" in out.stdout
    # launch.sh itself, called from elsewhere with a config path relative to there
    shutil.copy(REPO / "configs" / "mia_dpo_llava15_7b.yaml", tmp_path / "mine.yaml")
    out = run(["bash", str(SCRIPTS / "launch.sh"), str(REPO / "configs/accelerate/ddp.yaml"), "mine.yaml"],
              tmp_path, {**env, "GPUS": "2"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert "ddp x 2 device(s)" in out.stdout


@needs_repo_venv
def test_a_path_holding_dot_does_not_run_the_package_folder(tmp_path):
    """In the repository, a PATH with "." made bash try to execute the mmalign/ folder ("Is a directory")."""
    env = bare_env(DRY_RUN="1", GPUS="1")
    env["PATH"] = "." + os.pathsep + env["PATH"]
    out = run(["bash", str(SCRIPTS / "train_pami_vdpo_7b.sh")], REPO, env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Is a directory" not in out.stderr and "ddp x 1 device(s)" in out.stdout


def test_no_python_with_the_project_is_a_clear_message(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPTS / "launch.sh", tmp_path / "scripts" / "launch.sh")  # a checkout without .venv
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "dirname").symlink_to(shutil.which("dirname"))  # a PATH with no Python at all
    out = run([shutil.which("bash"), str(tmp_path / "scripts" / "launch.sh"), "ddp.yaml", "x.yaml"], tmp_path,
              {"PATH": str(tools), "HOME": str(tmp_path)})
    assert out.returncode == 1
    assert "no Python with mmalign and accelerate installed" in out.stderr
    assert str(tmp_path / ".venv" / "bin" / "python") in out.stderr and "make test" in out.stderr


@needs_repo_venv
def test_a_failed_launch_ends_with_its_first_error_once(tmp_path):
    """Two CPU ranks, a hub name while offline: every rank fails; the message is printed once, at the end."""
    config = tmp_path / "c.yaml"
    config.write_text(f"model: someorg/some-model\ndata: {tmp_path / 'pairs.jsonl'}\n"
                      f"output_dir: {tmp_path / 'out'}\nmax_steps: 1\n")
    out = run(["bash", str(SCRIPTS / "launch.sh"), str(REPO / "configs/accelerate/ddp.yaml"), str(config)],
              tmp_path, bare_env(GPUS="2", MAIN_PROCESS_PORT=str(free_port())), timeout=240)
    text = out.stdout + out.stderr
    assert out.returncode == 1, text[-3000:]
    assert text.count("error: model 'someorg/some-model'") == 1, text
    assert "launch failed: rank " in text and "not in the Hugging Face cache while offline" in text
    assert "ChildFailedError" not in text and "Traceback" not in text
    assert len(text.splitlines()) < 10, text


def test_under_a_launcher_a_user_error_goes_to_the_error_file(tmp_path, monkeypatch, capsys):
    error_file = tmp_path / "error.json"
    monkeypatch.setenv("TORCHELASTIC_ERROR_FILE", str(error_file))
    assert cli(["eval", "pope", "--model", "m", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err == ""  # the launcher's report says it, not each of the ranks
    message = json.loads(error_file.read_text())["message"]
    assert message["message"] == "error: mmalign eval pope: missing --data"
    assert "py_callstack" not in message["extraInfo"]
    monkeypatch.delenv("TORCHELASTIC_ERROR_FILE")
    assert cli(["eval", "pope", "--model", "m", "--out", str(tmp_path)]) == 1
    assert "error: mmalign eval pope: missing --data" in capsys.readouterr().err  # no launcher: printed


def test_under_a_launcher_a_crash_keeps_its_traceback_and_reaches_the_report(tmp_path, monkeypatch):
    from mmalign.cli import report

    def crash(argv):
        raise RuntimeError("CUDA out of memory")

    error_file = tmp_path / "error.json"
    monkeypatch.setenv("TORCHELASTIC_ERROR_FILE", str(error_file))
    monkeypatch.setattr(report, "main", crash)
    with pytest.raises(RuntimeError):
        cli(["report", "x"])
    message = json.loads(error_file.read_text())["message"]
    assert message["message"] == "RuntimeError: CUDA out of memory"
    assert "Traceback" in message["extraInfo"]["py_callstack"]


def test_the_first_failure_is_told_from_its_error_file(tmp_path):
    sys.path.insert(0, str(SCRIPTS))
    try:
        from accelerate_launch import failure_text
    finally:
        sys.path.remove(str(SCRIPTS))
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError, ProcessFailure

    def failure(rank, timestamp, message=None, exitcode=1):
        path = tmp_path / f"{rank}.json"
        if message is not None:
            path.write_text(json.dumps({"message": {"message": message,
                                                    "extraInfo": {"timestamp": str(timestamp)}}}))
        return ProcessFailure(local_rank=rank, pid=100 + rank, exitcode=exitcode, error_file=str(path))

    failures = {0: failure(0, 20, "error: late"), 3: failure(3, 10, "error: data.jsonl:4: missing image")}
    assert failure_text(ChildFailedError("mmalign", failures)) == (
        "launch failed: rank 3 failed first (exit code 1):\n  error: data.jsonl:4: missing image")
    killed = {5: failure(5, 0, exitcode=-9)}  # no error file: the signal is what there is to say
    assert "rank 5 failed first (exit code -9):\n  Signal 9 (SIGKILL)" in failure_text(ChildFailedError("m", killed))
    silent = {2: failure(2, 0, exitcode=2)}
    assert "it recorded no error; its output is above" in failure_text(ChildFailedError("m", silent))
