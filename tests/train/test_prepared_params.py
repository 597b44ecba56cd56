"""Gradient clipping and the logged grad norm read the parameters `accelerator.prepare` hands back.

FSDP2's fully_shard swaps each parameter for a new sharded one and accelerate re-points the optimiser at
them; a trainer holding the old list clips nothing and logs a grad norm of 0 (seen on an H200). The swap
is emulated here on the CPU: after the real prepare, every trainable parameter is replaced by a new
Parameter object, in the module and in the optimiser.
"""

import json

import torch
from accelerate import Accelerator
from helpers import tiny_config

from mmalign.train.trainer import train


def _swap_parameters(model, optimizer):
    swapped = {}
    for module in model.modules():
        for name, p in list(module.named_parameters(recurse=False)):
            if p.requires_grad:
                new = torch.nn.Parameter(p.detach().clone())
                setattr(module, name, new)
                swapped[id(p)] = new
    for group in optimizer.param_groups:
        group["params"] = [swapped.get(id(p), p) for p in group["params"]]
    return {id(p) for p in swapped.values()}


def test_grad_norm_and_clipping_follow_swapped_parameters(tmp_path, tiny_llava_path, synth_pairs, monkeypatch):
    real_prepare, real_clip = Accelerator.prepare, Accelerator.clip_grad_norm_
    swapped, clipped = [], []

    def prepare(self, *objects):
        model, optimizer, scheduler = real_prepare(self, *objects)
        swapped.append(_swap_parameters(model, optimizer))
        return model, optimizer, scheduler

    def clip(self, parameters, max_norm, norm_type=2):
        parameters = list(parameters)
        clipped.append({id(p) for p in parameters})
        return real_clip(self, parameters, max_norm, norm_type)

    monkeypatch.setattr(Accelerator, "prepare", prepare)
    monkeypatch.setattr(Accelerator, "clip_grad_norm_", clip)
    train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, max_steps=2))
    assert swapped and swapped[0]
    assert clipped and all(ids == swapped[0] for ids in clipped)  # the optimiser's parameters, all of them
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all(r["grad_norm"] > 0 for r in rows)
