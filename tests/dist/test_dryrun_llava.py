"""`mmalign train CONFIG --dry-run` on the shipped 7B configs, checked against a calculation written here
component by component from the published architectures (no weights, no network)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mmalign.train.config import load_train_config as load_config
from mmalign.train.dryrun import dry_run
from mmalign.train.memory import GIB

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def llama_decoder(h, i, layers, vocab, kv=None):
    kv = kv or h
    per_layer = 2 * h * h + 2 * h * kv + 3 * h * i + 2 * h  # q, o; k, v; gate, up, down; two RMSNorms
    return vocab * h + layers * per_layer + h + vocab * h  # embeddings, layers, final norm, lm_head


def clip_vit(h=1024, i=4096, layers=24, patch=14, image=336):
    positions = (image // patch) ** 2 + 1
    embeddings = 3 * patch * patch * h + h + positions * h  # patch conv (no bias), class token, positions
    per_layer = 4 * (h * h + h) + 2 * 2 * h + (h * i + i) + (i * h + h)
    return embeddings + 2 * h + layers * per_layer + 2 * h  # pre- and post-layernorm


def test_llava15_7b_lora_bf16_matches_hand_calculation():
    cfg = load_config(str(CONFIGS / "mia_dpo_llava15_7b.yaml"), [])
    d = dry_run(cfg, engine="zero2", devices=8, images=1, prompt_tokens=64, answer_tokens=128)

    h, i, layers, vocab, r = 4096, 11008, 32, 32064, 128
    vision, projector = clip_vit(), (1024 * h + h) + (h * h + h)
    base = llama_decoder(h, i, layers, vocab) + vision + projector
    lora = layers * r * (4 * (h + h) + 2 * (h + i) + (i + h))  # q k v o; gate up; down
    assert (d.vision_params, d.projector_params) == (vision, projector) == (303_507_456, 20_979_712)
    assert d.lora_params == d.trainable_params == lora == 319_815_680
    assert d.total_params == base + lora and base == 7_063_427_072

    assert d.image_tokens == (336 // 14) ** 2 == 576
    tokens = 576 + 64 + 128
    assert d.tokens_per_sample == tokens

    # Memory per device, ZeRO-2 over 8 GPUs, bf16, micro-batch 1 pair = 2 sequences, checkpointing on.
    total = base + lora
    weights = 2 * total
    gradients = 2 * lora / 8
    optimizer = (4 + 4 + 4) * lora / 8  # fp32 master, m, v
    seqs = 2
    layer_token = 2 * (6 * h + 2 * h + 4 * i)
    activations = layers * seqs * tokens * 2 * h + seqs * tokens * layer_token + seqs * 128 * vocab * (2 + 4)
    m = d.memory
    assert (m.weights, m.gradients, m.optimizer, m.reference) == (weights, gradients, optimizer, 0)
    assert math.isclose(m.activations, activations)
    assert 14.0 < m.total / GIB < 16.0


@pytest.mark.parametrize("engine,sharded", [("ddp", ()), ("zero2", ("gradients", "optimizer")),
                                            ("zero3", ("weights", "gradients", "optimizer")),
                                            ("fsdp2", ("weights", "gradients", "optimizer"))])
def test_engines_shard_what_they_should(engine, sharded):
    cfg = load_config(str(CONFIGS / "mia_dpo_llava15_7b.yaml"), ["lora.enabled=false", "precompute_ref=false"])
    one = dry_run(cfg, engine="ddp", devices=1).memory
    four = dry_run(cfg, engine=engine, devices=4).memory
    for part in ("weights", "gradients", "optimizer"):
        expected = getattr(one, part) / (4 if part in sharded else 1)
        assert math.isclose(getattr(four, part), expected), part
    assert four.reference == one.reference == 2 * 7_063_427_072  # full fine-tuning: frozen bf16 copy
    assert four.activations == one.activations


def test_checkpointing_and_batch_scale_activations():
    cfg = load_config(str(CONFIGS / "mia_dpo_llava15_7b.yaml"), ["gradient_checkpointing=false"])
    off = dry_run(cfg).memory.activations
    on = dry_run(load_config(str(CONFIGS / "mia_dpo_llava15_7b.yaml"), [])).memory.activations
    assert on < off / 5
    big = dry_run(load_config(str(CONFIGS / "mia_dpo_llava15_7b.yaml"),
                              ["gradient_checkpointing=false", "per_device_batch_size=4"])).memory.activations
    assert math.isclose(big, 4 * off)
