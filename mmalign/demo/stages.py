"""Training stages of the demo's starting model, each one `mmalign train` run (as a library call) on a
written config.

Used by `demo/reader_base.py` and by `scripts/reference_probe.py`.
"""

from __future__ import annotations

import random
from pathlib import Path

import yaml

from ..data.synth.patch_text import text_record
from ..io import read_jsonl, write_jsonl_atomic
from .steps import train_step


def train_stage(out: Path, model: Path, data: Path, root: Path | None, steps: int, batch: int, **extra) -> Path:
    """One `mmalign train` run with `loss: sft`, lr 1e-3 and 50 warm-up steps unless `extra` overrides
    them; the config is written beside `out` as `<out>.yaml`. Returns the final model folder."""
    cfg = {"model": str(model), "data": str(data), "output_dir": str(out), "loss": {"name": "sft"},
           "learning_rate": 1e-3, "warmup_steps": 50, "per_device_batch_size": batch, "max_steps": steps,
           "max_length": 512, "seed": 0, "on_bad_record": "skip", "overwrite": True, **({"root": str(root)} if root else {}), **extra}
    out.parent.mkdir(parents=True, exist_ok=True)
    path = out.parent / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return train_step(path)


def join_decoder(vision_model: Path, text_model: Path, out: Path) -> Path:
    """A LLaVA with the vision tower and projector of `vision_model` and the decoder of `text_model`
    (both built with the same tokenizer), written with `vision_model`'s processor to `out`: LLaVA joins a
    pretrained CLIP and a pretrained language model the same way."""
    from transformers import AutoProcessor, LlavaForConditionalGeneration

    from ..models.families import LlavaAdapter

    model = LlavaForConditionalGeneration.from_pretrained(vision_model)
    decoder = {k: v for k, v in LlavaForConditionalGeneration.from_pretrained(text_model).state_dict().items()
               if k.startswith(LlavaAdapter.language_prefixes)}
    result = model.load_state_dict(decoder, strict=False)
    if result.unexpected_keys:  # a decoder of another shape: refuse rather than join half of it
        raise ValueError(f"{text_model} does not fit {vision_model}: {result.unexpected_keys[:3]}")
    model.save_pretrained(out)
    AutoProcessor.from_pretrained(vision_model).save_pretrained(out)
    return out


def sft_mix(out: Path, instructions: Path, text_rows: int, seed: int = 0) -> Path:
    """Trainer records of `instructions` (JSONL, from `llava_to_records`) shuffled with `text_rows`
    patch-text records, so SFT on images keeps what the decoder read in text (LLaVA-1.5 mixes text-only
    conversations into its SFT data the same way)."""
    records = read_jsonl(instructions)
    rng = random.Random(seed)
    records += [text_record(i, rng, single_share=0.2) for i in range(text_rows)]
    rng.shuffle(records)
    write_jsonl_atomic(out, records)
    return out
