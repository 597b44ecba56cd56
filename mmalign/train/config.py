"""The training config: every key `mmalign train` accepts, with its type, default and meaning.

`configs/reference.yaml` is rendered from the `help` metadata below (a test keeps them in step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..config import apply_overrides, described, from_dict, read_yaml

_f = described  # short: every field below is one


@dataclass
class LoraConfig:
    enabled: bool = _f(False, "train LoRA adapters instead of the full model; the reference is the "
                              "adapter-disabled model (no second copy)")
    r: int = _f(16, "LoRA rank")
    alpha: int = _f(32, "LoRA alpha (scaling = alpha / r)")
    dropout: float = _f(0.05, "dropout on the LoRA input")
    target_modules: list[str] = _f([], "decoder modules to adapt; empty = the family's attention and MLP "
                                       "projections of the language model")


@dataclass
class TrainConfig:
    # -- what to train on --
    model: str = _f("tiny-llava", "model name or path; 'tiny-llava', 'tiny-qwen2-vl' and 'tiny-llama' "
                                  "build a random tiny model into OUTPUT_DIR/base-model first")
    data: str = _f("", "preference records (JSONL); 'synthetic' (image), 'synthetic-text' or 'synthetic-video' "
                       "writes the synthetic world's pairs into OUTPUT_DIR/data first")
    data_format: Literal["preference", "llava"] = _f("preference", "preference: JSONL records (docs/data-format.md); llava: "
                                                                 "LLaVA-665k-style instruction JSON for supervised "
                                                                 "fine-tuning with loss sft")
    root: str = _f("", "folder that media paths are relative to; empty = the data file's folder")
    extra_data: list = _f([], "more preference-record files (JSONL, media relative to the same root) trained "
                              "together with data, untransformed; e.g. build-data mia's replay.jsonl")
    eval_data: str = _f("", "held-out records scored after training (reward accuracy); 'synthetic' / 'synthetic-text' "
                            "= a held-out synthetic split (another seed)")
    output_dir: str = _f("runs/train", "where config.yaml, metrics.jsonl, checkpoint-N/ and final/ go")
    synthetic_pairs: int = _f(512, "pairs written when data is 'synthetic'")
    synthetic_eval_pairs: int = _f(256, "pairs written when eval_data is 'synthetic'")
    on_bad_record: Literal["error", "skip"] = _f("error", "error: stop at the first bad record (file:line); "
                                                          "skip: drop it and count it per reason")
    max_length: int = _f(2048, "longest prompt + answer in tokens (image tokens included); longer records "
                               "are bad records, never truncated")
    max_image_pixels: int = _f(89_478_485, "images with more pixels (width x height) are bad records: decompression "
                                            "bombs and absurd sizes are refused before they are decoded (the "
                                            "default is PIL's own warning limit)")
    group_by_length: bool = _f(False, "batch records of similar token length together (less padding): the "
                                      "shuffled order is sorted by length within windows of 64 global batches "
                                      "and the batches of each window shuffled again")
    num_workers: int = _f(0, "processes that collate micro-batches (open images, decode videos, tokenise) while the "
                             "model computes; 0 = in the training process, right for a CPU whose cores run the "
                             "model; 2-8 per GPU when media decoding shows in the step time (docs/training.md)")
    prefetch_factor: int = _f(2, "micro-batches each worker prepares ahead (num_workers > 0)")
    # -- objective --
    loss: dict = _f({"name": "sigmoid", "beta": 0.1}, "objective: {name: NAME, HYPER: VALUE, ...}; see "
                                                      "docs/objectives.md")
    head: Literal["lm", "value"] = _f("lm", "lm: the objective gets the answers' summed log-probs (a policy); value: a "
                                             "linear value head on the final hidden state at each answer's last "
                                             "token gives one score per answer and the objective (bt, bt_margin) "
                                             "gets those scores: a reward model, no reference model "
                                             "(docs/reward-models.md)")
    transforms: list = _f([], "dataset transforms applied before training, in order: [{name: fdpo_flip}, "
                              "{name: score_gap_filter, threshold: 2}, ...]; the result is written to "
                              "OUTPUT_DIR/data/transformed.jsonl")
    pair_sampler: dict = _f({}, "online pairs made with the model each step: {name: pami_vdpo, k: 4, schedule: "
                                "linear, floor: 0.01, metric: js, perturbations: [...], params: {}, "
                                "weight_sharpness: 4.0}; {} = none (docs/video.md)")
    rejections: Literal["first", "all"] = _f("first", "first: chosen vs rejected (rejected_list unused); all: "
                                                      "chosen paired with rejected and with every rejected_list "
                                                      "answer, the pair losses averaged per prompt (pairwise "
                                                      "losses; every record needs the same count)")
    video_frames: int = _f(8, "frames decoded per video (uniform sampling)")
    video_backend: Literal["auto", "decord", "pyav"] = _f("auto", "video decoder; auto = decord, PyAV where "
                                                                 "decord is missing or fails; the backend used "
                                                                 "is written to config.yaml as video_backend_used")
    # -- optimisation --
    learning_rate: float = _f(1e-6, "peak learning rate (AdamW)")
    weight_decay: float = _f(0.0, "AdamW weight decay")
    adam_beta1: float = _f(0.9, "AdamW beta1")
    adam_beta2: float = _f(0.999, "AdamW beta2")
    adam_epsilon: float = _f(1e-8, "AdamW epsilon")
    lr_scheduler: Literal["linear", "cosine", "constant"] = _f("linear", "decay after warmup")
    warmup_steps: int = _f(0, "linear warmup steps (overrides warmup_ratio when > 0)")
    warmup_ratio: float = _f(0.0, "warmup as a fraction of all optimiser steps")
    max_grad_norm: float = _f(1.0, "gradient clipping (0 = off)")
    per_device_batch_size: int = _f(8, "pairs per micro-batch on each device")
    gradient_accumulation_steps: int = _f(1, "micro-batches per optimiser step")
    num_epochs: float = _f(1.0, "passes over the data (fractions allowed)")
    max_steps: int = _f(-1, "optimiser steps; > 0 overrides num_epochs")
    seed: int = _f(42, "seed for weights of tiny models, data order and dropout")
    scoring_backend: Literal["auto", "packed", "concatenated"] = _f(
        "auto", "how answers are scored: packed (each prompt and its media once, every answer in the same "
                "forward under a block mask), concatenated (prompt + answer per answer, TRL's layout), or auto "
                "(packed wherever it can be expressed); the choice and its reason go to config.yaml")
    attn_implementation: str = _f("", "the model's attention implementation (sdpa, eager, flex_attention, "
                                      "flash_attention_2, ...); empty = the transformers default")
    precompute_ref: bool = _f(False, "compute reference log-probs for the whole dataset once before training "
                                     "(stored in OUTPUT_DIR/ref_logps, reused across epochs and restarts, rebuilt "
                                     "when model, data or processor change)")
    # -- model handling --
    precision: Literal["fp32", "bf16", "fp16"] = _f("fp32", "autocast precision (bf16/fp16 where the device "
                                                            "has it)")
    trust_remote_code: bool = _f(False, "run Python code that the model's folder or hub repo ships (config.json's "
                                        "auto_map); only for a model whose code you have read")
    gradient_checkpointing: bool = _f(False, "recompute decoder activations in the backward pass")
    freeze_vision_tower: bool = _f(True, "keep the vision encoder frozen")
    freeze_projector: bool = _f(False, "keep the vision-language projector frozen (full fine-tuning)")
    freeze_language_model: bool = _f(False, "keep the language model and its output head frozen, so only the "
                                             "projector (and an unfrozen vision tower) trains: LLaVA's "
                                             "feature-alignment stage")
    lora: LoraConfig = field(default_factory=LoraConfig, metadata={"help": "LoRA settings"})
    ddp_find_unused_parameters: bool = _f(False, "let DDP tolerate trainable parameters that get no gradient; "
                                                 "switched on automatically when the vision tower trains "
                                                 "without LoRA (LLaVA reads the tower's second-to-last layer, "
                                                 "so its last layer gets none)")
    # -- bookkeeping --
    logging_steps: int = _f(1, "log metrics every N optimiser steps")
    save_steps: int = _f(0, "write checkpoint-N/ every N optimiser steps (0 = only final/)")
    save_total_limit: int = _f(0, "keep only the newest N checkpoints (0 = keep all)")
    resume_from: str = _f("", "checkpoint folder or 'latest' to resume exactly (model, optimiser, "
                              "scheduler, RNG, data position); refused when the checkpoint's config differs in "
                              "anything but resume-safe keys (output, logging, data loading, the split of the "
                              "same global batch)")
    overwrite: bool = _f(False, "start afresh in an output_dir that holds another run (its checkpoints, final/, "
                                "metrics and eval are deleted first); without it such a folder is refused")
    max_consecutive_nonfinite: int = _f(5, "stop after this many non-finite losses in a row (each is skipped)")
    report_to: Literal["none", "tensorboard", "wandb"] = _f("none", "extra metrics sink, when installed")
    progress: bool = _f(True, "show a progress bar")


def load_train_config(path: str | Path, overrides: Sequence[str] = ()) -> TrainConfig:
    """The config in the YAML file `path` with `key=value` overrides applied, checked strictly: what
    `mmalign train CONFIG key=value ...` trains."""
    return from_dict(TrainConfig, apply_overrides(read_yaml(str(path)), list(overrides)))
