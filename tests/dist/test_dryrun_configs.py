"""Every shipped 7B config dry-runs offline through the CLI; Qwen2.5-VL and LLaVA-OneVision numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmalign.cli.main import main
from mmalign.train.config import load_train_config as load_config
from mmalign.train.dryrun import dry_run

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SEVEN_B = [p for p in ("mia_dpo_llava15_7b.yaml", "dpo_qwen25vl_7b.yaml", "pami_vdpo_7b.yaml")
           if (CONFIGS / p).is_file()]


@pytest.mark.parametrize("name", SEVEN_B)
def test_cli_dry_run_offline(name, capsys):
    # conftest sets HF_HUB_OFFLINE=1: a download attempt would fail the test.
    assert main(["train", str(CONFIGS / name), "--dry-run", "--engine", "zero3", "--devices", "16"]) == 0
    out = capsys.readouterr().out
    for word in ("parameters", "trainable", "tokens/sample", "weights", "gradients", "optimizer",
                 "activations", "total", "zero3 x 16"):
        assert word in out
    # Every shipped 7B config (checkpointing on, DDP/ZeRO, PaMi-VDPO's online clips) gets the packed backend.
    assert "scoring         packed (" in out


def test_qwen25vl_7b_counts():
    cfg = load_config(str(CONFIGS / "dpo_qwen25vl_7b.yaml"), [])
    d = dry_run(cfg, image_size=448)
    h, i, layers, vocab, kv = 3584, 18944, 28, 152064, 4 * 128
    qkv_bias = h + 2 * kv
    decoder = vocab * h + layers * (2 * h * h + 2 * h * kv + qkv_bias + 3 * h * i + 2 * h) + h + vocab * h
    assert d.total_params - d.lora_params - d.vision_params - d.projector_params == decoder
    r = cfg.lora.r
    assert d.lora_params == layers * r * (2 * (h + h) + 2 * (h + kv) + 2 * (h + i) + (i + h))
    assert d.image_tokens == (448 // 14) ** 2 // 4 == 256  # 14-px patches merged 2x2


def test_llava_onevision_image_and_video_tokens():
    cfg = load_config(str(CONFIGS / "mia_dpo_llava15_7b.yaml"),
                      ["model=llava-hf/llava-onevision-qwen2-7b-ov-hf"])
    d = dry_run(cfg, images=1, frames=16, image_size=384)
    # anyres at 384x384: the 729-token base view plus one 27x27 tile with a newline token per row.
    assert d.image_tokens == 729 + 27 * 27 + 27
    assert d.video_tokens == 16 * 14 * 14 + 1  # frames pooled 2x2 (27 -> 14), one newline
    assert any("dry run only" in n for n in d.notes)
