"""Exact resume, gradient-accumulation invariance, LoRA and non-finite loss handling."""

import math
from dataclasses import dataclass
from typing import ClassVar

import pytest
import torch
from helpers import tiny_config
from safetensors.torch import load_file

from mmalign.losses import Loss, LossOutput, register
from mmalign.losses.base import _REGISTRY
from mmalign.train.trainer import train


def weights(folder):
    out = {}
    for f in sorted(folder.glob("*.safetensors")):
        out.update(load_file(str(f)))
    return out


def assert_same_weights(a, b, atol=1e-6):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys() and wa
    for k in wa:
        assert torch.allclose(wa[k], wb[k], atol=atol), k


class Crash(Exception):
    pass


def crash_at(step_to_crash):
    def sampler(batch, step, **_):
        if step == step_to_crash:
            raise Crash
        return batch

    return sampler


@pytest.mark.parametrize("lora", [False, True], ids=["full", "lora"])
def test_resume_matches_uninterrupted(tmp_path, tiny_llava_path, synth_pairs, lora):
    common = dict(max_steps=4, save_steps=2, lr_scheduler="cosine", warmup_steps=1,
                  lora={"enabled": lora, "r": 4, "alpha": 8, "dropout": 0.0})
    full = train(tiny_config(tmp_path / "a", tiny_llava_path, synth_pairs, **common))
    run_b = tiny_config(tmp_path / "b", tiny_llava_path, synth_pairs, **common)
    with pytest.raises(Crash):  # the run dies during step 3, after checkpoint-2 was written
        train(run_b, pair_sampler=crash_at(2))
    assert (tmp_path / "b" / "run" / "checkpoint-2").is_dir()
    run_b.resume_from = "latest"
    resumed = train(run_b)
    assert_same_weights(full.final_dir, resumed.final_dir)
    steps = [line for line in (tmp_path / "b" / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(steps) == 4  # no duplicated steps after resume


def test_gradient_accumulation_invariance(tmp_path, tiny_llava_path, synth_pairs):
    # A large Adam epsilon makes the update proportional to the gradient (lr * g / (sqrt(v) + eps)), so
    # float-rounding differences in near-zero gradients cannot flip into lr-sized steps as with eps=1e-8.
    opt = dict(max_steps=2, learning_rate=1.0, adam_epsilon=1.0, max_grad_norm=0.0)
    a = train(tiny_config(tmp_path / "a", tiny_llava_path, synth_pairs, per_device_batch_size=4,
                          gradient_accumulation_steps=1, **opt))
    b = train(tiny_config(tmp_path / "b", tiny_llava_path, synth_pairs, per_device_batch_size=1,
                          gradient_accumulation_steps=4, **opt))
    assert_same_weights(a.final_dir, b.final_dir, atol=1e-5)
    initial, trained = weights(tiny_llava_path), weights(a.final_dir)
    moved = max(float((trained[k] - initial[k]).abs().max()) for k in initial)
    assert moved > 1e-3  # training really moved the weights


@register
@dataclass(frozen=True)
class _NanOnSecondCall(Loss):
    """Test-only objective: sigmoid-like, but non-finite on its second call."""

    name: ClassVar[str] = "test_nan_second_call"
    needs: ClassVar[frozenset] = frozenset({"reference"})

    def __call__(self, pc, pr, rc, rr, **_):
        _NAN_CALLS.append(1)
        losses = -torch.nn.functional.logsigmoid((pc - rc) - (pr - rr))
        if len(_NAN_CALLS) == 2:
            losses = losses * float("nan")
        return LossOutput(losses, (pc - rc).detach(), (pr - rr).detach())


_NAN_CALLS: list = []


def test_nonfinite_loss_is_skipped_and_counted(tmp_path, tiny_llava_path, synth_pairs):
    _NAN_CALLS.clear()
    result = train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, loss={"name": "test_nan_second_call"},
                               max_steps=3))
    assert result.nonfinite_skipped == 1
    assert result.final_dir.is_dir()
    rows = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == 2 and all(math.isfinite(float(r.split('"loss": ')[1].split(",")[0])) for r in rows)


def test_consecutive_nonfinite_stops(tmp_path, tiny_llava_path, synth_pairs):
    from mmalign.errors import MMAlignError

    @register
    @dataclass(frozen=True)
    class _AlwaysNan(Loss):
        name: ClassVar[str] = "test_always_nan"
        needs: ClassVar[frozenset] = frozenset()

        def __call__(self, pc, pr, rc=None, rr=None, **_):
            return LossOutput(pc * float("nan"), pc.detach(), pr.detach())

    try:
        with pytest.raises(MMAlignError, match="non-finite losses in a row"):
            train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, loss={"name": "test_always_nan"},
                              max_steps=5, max_consecutive_nonfinite=2))
    finally:
        _REGISTRY.pop("test_always_nan", None)


@pytest.mark.parametrize("lora", [False, True], ids=["full", "lora"])
def test_precomputed_reference_matches_online(tmp_path, tiny_llava_path, synth_pairs, lora):
    import json

    common = dict(max_steps=3, lora={"enabled": lora, "r": 4, "alpha": 8, "dropout": 0.0})
    runs = []
    for i, pre in enumerate((False, True)):
        train(tiny_config(tmp_path / str(i), tiny_llava_path, synth_pairs, precompute_ref=pre, **common))
        rows = [json.loads(line) for line in (tmp_path / str(i) / "run" / "metrics.jsonl").read_text().splitlines()]
        runs.append([v for r in rows for v in (r["loss"], r["rewards/margins"])])
    assert runs[0] == pytest.approx(runs[1], abs=1e-5)
    assert list((tmp_path / "1" / "run" / "ref_logps").glob("*.pt"))
