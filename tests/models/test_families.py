"""Each family (tiny LLaVA, tiny Qwen2-VL, tiny Llama): a DPO step, a checkpoint plain transformers/peft
reloads, generate, and image spans checked against a hand-built batch."""

import pytest
import torch
from helpers import tiny_config
from PIL import Image

from mmalign.data.synth import write_preference_pairs, write_text_pairs
from mmalign.models import generate, load
from mmalign.models.tiny_registry import TINY_BUILDERS
from mmalign.train.trainer import train


@pytest.fixture(scope="module")
def family_paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("families")
    return {name: TINY_BUILDERS[name](root / name) for name in ("tiny-qwen2-vl", "tiny-llama")}


@pytest.mark.parametrize("family,lora", [("tiny-llava", True), ("tiny-qwen2-vl", False), ("tiny-qwen2-vl", True),
                                         ("tiny-llama", False)])
def test_dpo_step_checkpoint_reload_generate(tmp_path, family_paths, tiny_llava_path, family, lora):
    from transformers import AutoModelForCausalLM, AutoModelForImageTextToText

    path = tiny_llava_path if family == "tiny-llava" else family_paths[family]
    writer = write_text_pairs if family == "tiny-llama" else write_preference_pairs
    data = writer(tmp_path / "d", seed=5, count=8)
    cfg = tiny_config(tmp_path, path, (data, tmp_path / "d"), max_steps=2, save_steps=1, max_length=256,
                      lora={"enabled": lora, "r": 4, "alpha": 8})
    result = train(cfg)
    ckpt = tmp_path / "run" / "checkpoint-1"
    cls = AutoModelForCausalLM if family == "tiny-llama" else AutoModelForImageTextToText
    for folder in (ckpt, result.final_dir):
        if lora:
            from peft import PeftModel

            assert (folder / "adapter_config.json").is_file()
            model = PeftModel.from_pretrained(cls.from_pretrained(path), folder)
        else:
            model = cls.from_pretrained(folder)
        assert sum(p.numel() for p in model.parameters()) > 0
    loaded = load(result.final_dir if not lora else path)
    record = {"prompt": "What number comes after two?"} if family == "tiny-llama" else \
        {"prompt": "<image>\n<image>\nWhat colour is the circle?", "images": [Image.new("RGB", (32, 32)),
                                                                          Image.new("RGB", (48, 32))]}
    gens = generate(loaded.model, loaded.processor, [record, record], max_new_tokens=3, return_logprobs=True)
    assert len(gens) == 2 and gens[0].text == gens[1].text  # greedy, same prompt
    assert len(gens[0].logprobs) == len(gens[0].token_ids) and all(lp <= 0 for lp in gens[0].logprobs)


def test_llava_image_spans_hand_built(tiny_llava):
    tok = tiny_llava.processor.tokenizer
    img, txt = tok.image_token_id, tok.convert_tokens_to_ids("red")
    # sample 0: text, image, text, image (adjacent runs separated); sample 1: three adjacent images.
    row0 = [txt] * 2 + [img] * 16 + [txt] * 3 + [img] * 16 + [txt]
    row1 = [img] * 48 + [txt] * 6
    ids = torch.tensor([row0 + [0] * (len(row1) - len(row0)), row1])
    spans = tiny_llava.adapter.image_spans({"input_ids": ids})
    assert [(s.start, s.end, s.grid_hw) for s in spans[0]] == [(2, 18, (4, 4)), (21, 37, (4, 4))]
    assert [(s.start, s.end) for s in spans[1]] == [(0, 16), (16, 32), (32, 48)]


def test_llava_grid_for_llava_15_shape():
    from types import SimpleNamespace

    from mmalign.models.families import LlavaAdapter

    cfg = SimpleNamespace(image_token_id=32000, vision_config=SimpleNamespace(image_size=336, patch_size=14))
    assert LlavaAdapter(cfg, None).grid_hw() == (24, 24)


def test_qwen_image_spans_follow_image_grid_thw(family_paths):
    loaded = load(family_paths["tiny-qwen2-vl"])
    proc = loaded.processor
    msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "and"}, {"type": "image"},
                                         {"type": "text", "text": "what colour?"}]}]
    text = proc.apply_chat_template(msgs, add_generation_prompt=True)
    batch = proc(images=[Image.new("RGB", (32, 32)), Image.new("RGB", (64, 32))], text=[text], return_tensors="pt")
    spans = loaded.adapter.image_spans(batch)[0]
    positions = (batch["input_ids"][0] == loaded.adapter.image_token_id).nonzero().flatten().tolist()
    # image 1: 32x32 px, patch 8 -> 4x4 patches, merged 2x2 -> 2x2 tokens; image 2: 64x32 -> 2 rows x 4 cols
    assert [s.grid_hw for s in spans] == [(2, 2), (2, 4)]
    assert [p for s in spans for p in range(s.start, s.end)] == positions
    assert spans[0].end < spans[1].start
