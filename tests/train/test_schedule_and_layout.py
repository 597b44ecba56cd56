"""The learning-rate sequence is the documented one (transformers' get_scheduler, as Hugging Face Trainer and
TRL step it); the trainer's functions stay short; metrics reach accelerate's trackers."""

import ast
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from mmalign.train.metrics import MetricsLog, flat_config
from mmalign.train.schedule import build_scheduler

TRAIN = Path(__file__).resolve().parents[2] / "mmalign" / "train"


def rates(kind, warmup, total):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = build_scheduler(opt, kind, warmup, total)
    out = []
    for _ in range(total):
        out.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return out


@pytest.mark.parametrize(("kind", "expected"), [
    # warmup s / W, then (T - s) / (T - W): docs/training.md
    ("linear", [0.0, 0.5, 1.0, 0.5]),
    # warmup, then (1 + cos(pi (s - W) / (T - W))) / 2
    ("cosine", [0.0, 0.5, 1.0, 0.5]),
    ("constant", [0.0, 0.5, 1.0, 1.0]),
])
def test_learning_rate_sequence_is_the_documented_one(kind, expected):
    assert rates(kind, 2, 4) == pytest.approx(expected)


def test_cosine_without_warmup_by_hand():
    # T = 4: (1 + cos(pi s / 4)) / 2 for s = 0..3
    assert rates("cosine", 0, 4) == pytest.approx([1.0, 0.853553, 0.5, 0.146447], abs=1e-6)


def test_no_function_in_train_is_longer_than_80_lines():
    long = []
    for path in sorted(TRAIN.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > 80:
                    long.append(f"{path.name}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def test_metrics_go_to_the_file_and_to_the_trackers(tmp_path):
    logged = []
    accelerator = SimpleNamespace(trackers=["stub"], log=lambda values, step: logged.append((step, values)))
    log = MetricsLog(tmp_path / "metrics.jsonl", accelerator)
    log.log({"step": 1, "loss": 0.5, "note": "text"})
    log.close()
    assert json.loads((tmp_path / "metrics.jsonl").read_text()) == {"step": 1, "loss": 0.5, "note": "text"}
    assert logged == [(1, {"loss": 0.5})]


def test_resumed_log_keeps_steps_up_to_the_checkpoint(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps({"step": s}) + "\n" for s in (1, 2, 3, 5)))
    MetricsLog(path, resume_after=2).close()
    assert [json.loads(line)["step"] for line in path.read_text().splitlines()] == [1, 2]


def test_tracker_config_is_flat():
    assert flat_config({"loss": {"name": "ipo", "beta": 0.1}, "transforms": [{"name": "x"}], "lr": 1e-6}) == {
        "loss.name": "ipo", "loss.beta": 0.1, "transforms": "[{'name': 'x'}]", "lr": 1e-6}


def test_cpu_training_tunes_glibc_malloc_unless_told_not_to(monkeypatch):
    import platform

    from mmalign.train import cpu_malloc

    monkeypatch.setattr(cpu_malloc, "_done", False)
    monkeypatch.setenv("MMALIGN_KEEP_MALLOC", "1")
    assert cpu_malloc.tune_for_cpu_training() is False
    monkeypatch.delenv("MMALIGN_KEEP_MALLOC")
    expected = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert cpu_malloc.tune_for_cpu_training() is expected
