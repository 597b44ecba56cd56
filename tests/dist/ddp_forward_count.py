"""Run under torchrun: a DDP-wrapped tiny LLaVA with gradient checkpointing scores one micro-batch with the
packed backend; each rank writes OUT_DIR/rank<N>.json: how often the first decoder layer ran before the backward and
on what shape. Arguments: MODEL_DIR DATA_FILE MEDIA_ROOT OUT_DIR."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import DistributedDataParallelKwargs

from mmalign.data import read_records
from mmalign.data.collate import PreferenceCollator
from mmalign.models import load
from mmalign.train.step import PairForward


def main(model_dir: str, data: str, root: str, out_dir: str) -> None:
    accelerator = Accelerator(cpu=True, kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)])
    loaded = load(model_dir)
    adapter = loaded.adapter
    model = loaded.model
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    model = accelerator.prepare(model)
    collator = PreferenceCollator(loaded.processor, adapter, root)
    records = read_records(data, root)[0]
    mine = records[2 * accelerator.process_index: 2 * accelerator.process_index + 2]
    batch = collator(mine)
    shapes = []
    layer = adapter.decoder_layers(model)[0]
    hook = layer.register_forward_hook(lambda m, a, o: shapes.append(list(a[0].shape)))
    forward = PairForward(adapter, collator.tokenizer.pad_token_id, "packed")
    pairs = forward(model, batch)
    before_backward = len(shapes)
    accelerator.backward((pairs.chosen - pairs.rejected[:, 0]).sum())
    hook.remove()
    answer_width = max(batch["chosen_input_ids"].shape[1], batch["rejected_input_ids"].shape[1])
    report = {"rank": accelerator.process_index, "ddp": type(model).__name__, "calls": before_backward,
              "shape": shapes[0][:2],
              "expected": [batch["prompt_input_ids"].shape[0], batch["prompt_input_ids"].shape[1] + 2 * answer_width],
              "grad": any(p.grad is not None for p in model.parameters())}
    Path(out_dir, f"rank{accelerator.process_index}.json").write_text(json.dumps(report))
    accelerator.wait_for_everyone()
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:5])
