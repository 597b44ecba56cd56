"""One side of `mmalign bench dpo`, run in its own process: train with TRL or mmalign, write a JSON result.

python -m mmalign.bench.dpo_worker --framework trl|mmalign --model DIR --data JSONL --root DIR --out DIR
    --batch B --steps N --lr LR --seed S [--rejections K] [--checkpointing] --result FILE

`--batch` counts pairs per step for both. With K > 1 TRL reads the pairs one per line, and mmalign reads
records with K rejections (`rejections: all`), B/K of them per step.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from ..io import read_jsonl


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / (1024 * 1024) if sys.platform == "darwin" else kb / 1024


def run_trl(a) -> dict:
    import torch
    from datasets import Dataset
    from PIL import Image
    from torch.utils.data import SequentialSampler
    from transformers import AutoModelForImageTextToText, AutoProcessor, TrainerCallback
    from trl import DPOConfig, DPOTrainer

    root = Path(a.root)
    rows = []
    for r in read_jsonl(a.data):
        rows.append({"images": [Image.open(root / p).convert("RGB") for p in r["images"]],
                     "prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"]})
    dataset = Dataset.from_list(rows)
    dtype = torch.bfloat16 if a.precision == "bf16" else torch.float32
    model = AutoModelForImageTextToText.from_pretrained(a.model, dtype=dtype)
    if torch.cuda.is_available():
        model.to("cuda")
    model.model.vision_tower.requires_grad_(False)
    processor = AutoProcessor.from_pretrained(a.model)
    peft_config = None
    if a.lora:  # the same adapted modules, rank, alpha and dropout as mmalign's LoRA
        from peft import LoraConfig

        from ..models.load import adapter_for
        from ..models.lora import lora_target_regex

        peft_config = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, bias="none",
                                 target_modules=lora_target_regex(model, adapter_for(model.config, processor), []))

    class Sequential(DPOTrainer):  # DPOConfig has no shuffle flag; keep the given (mmalign's) order
        def _get_train_sampler(self, *args, **kwargs):
            return SequentialSampler(self.train_dataset)

    class Clock(TrainerCallback):
        def __init__(self):
            self.start = None
            self.ends: list[float] = []
            self.logs: list[dict] = []

        def on_train_begin(self, args, state, control, **kw):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            self.ends.append(time.perf_counter())

        def on_log(self, args, state, control, logs=None, **kw):
            self.logs.append(dict(logs or {}))

    clock = Clock()
    args = DPOConfig(output_dir=a.out, per_device_train_batch_size=a.batch, max_steps=a.steps,
                     learning_rate=a.lr, lr_scheduler_type="linear", warmup_steps=0, weight_decay=0.0,
                     max_grad_norm=1.0, gradient_accumulation_steps=1, logging_steps=1, seed=a.seed,
                     use_cpu=not torch.cuda.is_available(), bf16=a.precision == "bf16", fp16=False, report_to=[], max_length=None,
                     dataloader_num_workers=0, save_strategy="no", gradient_checkpointing=a.checkpointing,
                     beta=0.1, loss_type=["sigmoid"], precompute_ref_log_probs=False, remove_unused_columns=False,
                     disable_tqdm=True)
    trainer = Sequential(model=model, args=args, train_dataset=dataset, processing_class=processor,
                         callbacks=[clock], peft_config=peft_config)
    trainer.train()
    seconds = clock.ends[-1] - clock.start
    step_logs = [g for g in clock.logs if "logps/chosen" in g]
    steps = [b - a_ for a_, b in zip([clock.start, *clock.ends[:-1]], clock.ends)]
    return {"samples_per_s": a.batch * a.steps / seconds, "seconds": seconds, "step_seconds": steps,
            "step0_logps_chosen": float(step_logs[0]["logps/chosen"]),
            "final_loss": float(step_logs[-1]["loss"]), "steps_logged": len(step_logs)}


def run_mmalign(a) -> dict:
    from ..config import from_dict
    from ..train.config import TrainConfig
    from ..train.trainer import train

    cfg = from_dict(TrainConfig, {
        "model": a.model, "data": a.data, "root": a.root, "output_dir": a.out,
        "per_device_batch_size": a.batch // a.rejections, "rejections": "all" if a.rejections > 1 else "first",
        "max_steps": a.steps, "learning_rate": a.lr, "lr_scheduler": "linear", "warmup_steps": 0,
        "weight_decay": 0.0, "max_grad_norm": 1.0, "gradient_accumulation_steps": 1, "seed": a.seed,
        "gradient_checkpointing": a.checkpointing, "freeze_vision_tower": True,
        "freeze_projector": False, "progress": False, "logging_steps": 1, "save_steps": 0,
        "max_length": 1_000_000, "loss": {"name": "sigmoid", "beta": 0.1}, "precision": a.precision,
        "lora": {"enabled": a.lora, "r": 16, "alpha": 32, "dropout": 0.0}})
    train(cfg)
    rows = read_jsonl(str(Path(a.out) / "metrics.jsonl"))
    # each row's samples/s is its prompts over that step's wall time (collation to optimiser step)
    steps = [a.batch // a.rejections / r["samples/s"] for r in rows]
    seconds = sum(steps)
    return {"samples_per_s": a.batch * a.steps / seconds, "seconds": seconds, "step_seconds": steps,
            "step0_logps_chosen": float(rows[0]["logps/chosen"]), "final_loss": float(rows[-1]["loss"]),
            "steps_logged": len(rows)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m mmalign.bench.dpo_worker")
    p.add_argument("--framework", choices=("trl", "mmalign"), required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rejections", type=int, default=1, help="rejections per prompt (divides --batch)")
    p.add_argument("--checkpointing", action="store_true")
    p.add_argument("--lora", action="store_true", help="LoRA r16/alpha32/dropout 0 on the language model")
    p.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    p.add_argument("--result", required=True)
    a = p.parse_args(argv)
    result = run_trl(a) if a.framework == "trl" else run_mmalign(a)
    result["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    import torch

    if torch.cuda.is_available():
        result["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    result["samples_per_s"] = round(result["samples_per_s"], 3)
    later = result["step_seconds"][1:]  # after the first step's warm-up (CUDA kernels, allocator, caches)
    result["steady_samples_per_s"] = round(a.batch * len(later) / sum(later), 3) if later else None
    Path(a.result).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
