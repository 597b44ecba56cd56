"""mmalign train on the tiny LLaVA: outputs, metrics, plain-transformers reload, CLI errors."""

import json

import pytest
import torch
import yaml
from helpers import tiny_config

from mmalign.cli.main import main as cli
from mmalign.train.trainer import train


def test_train_writes_outputs_and_metrics(tmp_path, tiny_llava_path, synth_pairs):
    cfg = tiny_config(tmp_path, tiny_llava_path, synth_pairs, eval_data=str(synth_pairs[0]))
    result = train(cfg)
    out = tmp_path / "run"
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    for key in ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies",
                "logps/chosen", "logps/rejected", "lr", "grad_norm", "samples/s", "tokens/s"):
        assert key in rows[0]
    # Step 1: policy == reference, so every reward is 0 and the loss is log 2.
    assert rows[0]["loss"] == pytest.approx(0.693147, abs=1e-5)
    assert rows[0]["rewards/margins"] == pytest.approx(0.0, abs=1e-6)
    assert rows[1]["loss"] != rows[0]["loss"]
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["max_steps"] == 3 and resolved["parameters"]["trainable"] > 0
    assert 0.0 <= result.eval["reward_accuracy"] <= 1.0 and result.eval["pairs"] == 16


def test_final_loads_with_plain_transformers_and_generates(tmp_path, tiny_llava_path, synth_pairs):
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, max_steps=1))
    final = tmp_path / "run" / "final"
    model = AutoModelForImageTextToText.from_pretrained(final)
    proc = AutoProcessor.from_pretrained(final)
    text = proc.apply_chat_template([{"role": "user", "content": [{"type": "image"},
                                                                   {"type": "text", "text": "What colour?"}]}],
                                    add_generation_prompt=True)
    inputs = proc(images=[Image.new("RGB", (32, 32))], text=[text], return_tensors="pt")
    out = model.generate(**inputs, max_new_tokens=4, do_sample=False)
    assert out.shape[1] > inputs["input_ids"].shape[1]
    assert isinstance(proc.decode(out[0, inputs["input_ids"].shape[1]:]), str)


def test_vision_tower_frozen_by_default(tmp_path, tiny_llava_path, synth_pairs):
    from transformers import AutoModelForImageTextToText

    train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, max_steps=1))
    before = AutoModelForImageTextToText.from_pretrained(tiny_llava_path)
    after = AutoModelForImageTextToText.from_pretrained(tmp_path / "run" / "final")
    b, a = dict(before.named_parameters()), dict(after.named_parameters())
    vision = [n for n in b if n.startswith("model.vision_tower")]
    assert vision and all(torch.equal(b[n], a[n]) for n in vision)
    assert not torch.equal(b["lm_head.weight"], a["lm_head.weight"])


def test_freeze_language_model_trains_only_the_projector(tmp_path, tiny_llava_path, synth_pairs):
    """LLaVA's feature-alignment stage: tower and language model (with lm_head) stay put, the projector moves."""
    from transformers import AutoModelForImageTextToText

    train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, max_steps=2, freeze_language_model=True,
                      loss={"name": "sft"}))
    before = AutoModelForImageTextToText.from_pretrained(tiny_llava_path)
    after = AutoModelForImageTextToText.from_pretrained(tmp_path / "run" / "final")
    b, a = dict(before.named_parameters()), dict(after.named_parameters())
    moved = {n for n in b if not torch.equal(b[n], a[n])}
    assert moved and all(n.startswith("model.multi_modal_projector") for n in moved)


def test_freeze_language_model_refuses_lora(tmp_path, tiny_llava_path, synth_pairs):
    from mmalign.errors import ConfigError

    cfg = tiny_config(tmp_path, tiny_llava_path, synth_pairs, max_steps=1, freeze_language_model=True,
                      lora={"enabled": True, "r": 4})
    with pytest.raises(ConfigError, match="freeze_language_model: LoRA"):
        train(cfg)


def test_cli_user_errors_exit_1_without_traceback(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: tiny-llava\nlearnin_rate: 0.1\n")
    assert cli(["train", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert "unknown config key 'learnin_rate'" in err and "Traceback" not in err
    cfg.write_text("data: synthetic\nloss: {name: nope}\n")
    assert cli(["train", str(cfg), f"output_dir={tmp_path}/o"]) == 1
    err = capsys.readouterr().err
    assert "unknown loss 'nope'" in err and "sigmoid" in err


def test_data_validate_cli(tmp_path, synth_pairs, capsys):
    data, root = synth_pairs
    assert cli(["data", "validate", "--data", str(data), "--root", str(root)]) == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text(data.read_text().splitlines()[0] + "\n{oops\n")
    assert cli(["data", "validate", "--data", str(bad), "--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:2: malformed JSON" in out


@pytest.mark.parametrize("over", [{"precision": "bf16"}, {"gradient_checkpointing": True},
                                  {"gradient_checkpointing": True, "lora": {"enabled": True, "r": 4}}],
                         ids=["bf16", "checkpointing", "checkpointing-lora"])
def test_precision_and_checkpointing_train(tmp_path, tiny_llava_path, synth_pairs, over):
    train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, max_steps=2, **over))
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(r["loss"] == r["loss"] and r["grad_norm"] > 0 for r in rows)


def test_checkpointing_gives_same_loss(tmp_path, tiny_llava_path, synth_pairs):
    losses = []
    for i, ckpt in enumerate((False, True)):
        train(tiny_config(tmp_path / str(i), tiny_llava_path, synth_pairs, max_steps=2, gradient_checkpointing=ckpt))
        rows = [json.loads(line) for line in (tmp_path / str(i) / "run" / "metrics.jsonl").read_text().splitlines()]
        losses.append([r["loss"] for r in rows])
    assert losses[0] == pytest.approx(losses[1], abs=1e-5)


def test_fp16_on_cpu_is_a_clear_error(tmp_path, tiny_llava_path, synth_pairs):
    from mmalign.errors import ConfigError

    if torch.cuda.is_available():
        pytest.skip("fp16 is valid on a GPU")
    with pytest.raises(ConfigError, match="fp16"):
        train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, precision="fp16"))


def test_sft_logs_no_rewards(tmp_path, tiny_llava_path, synth_pairs):
    train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, loss={"name": "sft"}, max_steps=2))
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    assert not [k for k in rows[0] if k.startswith("rewards/") or k == "logps/rejected"]
    assert rows[0]["loss"] > 0 and rows[0]["logps/chosen"] < 0


def test_group_by_length_trains_on_measured_lengths(tmp_path, tiny_llava_path, synth_pairs):
    result = train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, group_by_length=True, max_steps=2))
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2] and result is not None
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["group_by_length"] is True
