"""A tiny Qwen2-VL built from config: dynamic-resolution vision tower, 2x2 patch merge, M-RoPE decoder."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import (
    Qwen2VLConfig,
    Qwen2VLForConditionalGeneration,
    Qwen2VLImageProcessor,
    Qwen2VLProcessor,
    Qwen2VLVideoProcessor,
)

from ..data.synth import vocabulary
from .tokenizer import build_word_tokenizer

QWEN_MARKERS = ["<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
                "<|video_pad|>"]
QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for item in message['content'] %}"
    "{% if item['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif item['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_qwen2_vl(path: str | Path, *, hidden_size: int = 64, num_layers: int = 2, patch_size: int = 8,
                        max_pixels: int = 64 * 64, seed: int = 0) -> Path:
    """Build a random tiny Qwen2-VL with a local tokenizer and processor, and save both to `path`."""
    path = Path(path)
    tok = build_word_tokenizer(vocabulary(), chat_template=QWEN_CHAT_TEMPLATE, extra_special=QWEN_MARKERS,
                               image_token="<|image_pad|>", video_token="<|video_pad|>", eos="<|im_end|>")
    heads = 4
    half_head = hidden_size // heads // 2
    # M-RoPE splits the rotary half-dimension into temporal, height and width sections.
    section = [half_head - 2 * (half_head // 3), half_head // 3, half_head // 3]
    ids = {"bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id, "pad_token_id": tok.pad_token_id}
    config = Qwen2VLConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
                         num_hidden_layers=num_layers, num_attention_heads=heads, num_key_value_heads=2,
                         max_position_embeddings=4096, tie_word_embeddings=False,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": section},
                         **ids),
        vision_config=dict(depth=2, embed_dim=32, hidden_size=hidden_size, num_heads=2, patch_size=patch_size,
                           spatial_merge_size=2, temporal_patch_size=2, in_channels=3, mlp_ratio=2),
        image_token_id=tok.image_token_id, video_token_id=tok.video_token_id,
        vision_start_token_id=tok.convert_tokens_to_ids("<|vision_start|>"),
        vision_end_token_id=tok.convert_tokens_to_ids("<|vision_end|>"), **ids,
    )
    torch.manual_seed(seed)
    model = Qwen2VLForConditionalGeneration(config)
    for key, value in ids.items():
        setattr(model.generation_config, key, value)
    sizes = dict(patch_size=patch_size, merge_size=2, temporal_patch_size=2, min_pixels=(patch_size * 2) ** 2,
                 max_pixels=max_pixels)
    processor = Qwen2VLProcessor(image_processor=Qwen2VLImageProcessor(**sizes), tokenizer=tok,
                                 video_processor=Qwen2VLVideoProcessor(**sizes), chat_template=QWEN_CHAT_TEMPLATE)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path
