"""Tiny models built from config with random weights and written to disk.

Every tiny model is saved with its processor, so it is loaded back through `mmalign.models.load` by
path exactly like a real checkpoint, and plain `transformers` can load it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import (
    CLIPImageProcessor,
    CLIPVisionConfig,
    LlamaConfig,
    LlavaConfig,
    LlavaForConditionalGeneration,
    LlavaImageProcessor,
    LlavaProcessor,
)

from ..data.synth import vocabulary
from .tokenizer import build_word_tokenizer


@dataclass(frozen=True)
class TinyLlavaSpec:
    """Sizes of a tiny LLaVA-1.5-style model (CLIP vision tower + MLP projector + Llama decoder)."""

    hidden_size: int = 128
    num_layers: int = 2
    num_heads: int = 4
    intermediate_size: int = 256
    vision_hidden_size: int = 64
    vision_layers: int = 2
    vision_heads: int = 2
    image_size: int = 32
    patch_size: int = 8
    # LLaVA-1.5's "pad" aspect ratio: pad a non-square image (a 1x3 collage) to a square before resizing.
    # CLIP's default resize-then-centre-crop cuts the outer cells of a wide collage away.
    pad_to_square: bool = False
    seed: int = 0


def build_tiny_llava(path: str | Path, spec: TinyLlavaSpec = TinyLlavaSpec(), extra_words=()) -> Path:
    """Build a random tiny LLaVA with a local word-level tokenizer and save model + processor to `path`."""
    path = Path(path)
    tokenizer = build_word_tokenizer(vocabulary() + list(extra_words))
    vision = CLIPVisionConfig(
        hidden_size=spec.vision_hidden_size,
        intermediate_size=spec.vision_hidden_size * 2,
        num_hidden_layers=spec.vision_layers,
        num_attention_heads=spec.vision_heads,
        image_size=spec.image_size,
        patch_size=spec.patch_size,
        projection_dim=spec.vision_hidden_size,
    )
    text = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=spec.num_heads,
        num_key_value_heads=spec.num_heads,
        max_position_embeddings=2048,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_id=tokenizer.image_token_id,
        # LLaVA-1.5 takes the penultimate vision layer; with 2 layers that leaves the last one unused.
        vision_feature_layer=-1,
        vision_feature_select_strategy="default",
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(spec.seed)
    model = LlavaForConditionalGeneration(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    image_processor = (LlavaImageProcessor if spec.pad_to_square else CLIPImageProcessor)(
        size={"shortest_edge": spec.image_size},
        crop_size={"height": spec.image_size, "width": spec.image_size},
        do_center_crop=True,
        **({"do_pad": True} if spec.pad_to_square else {}),
    )
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=spec.patch_size,
        vision_feature_select_strategy="default",
        # With the "default" strategy the CLS feature is dropped, so the processor must count it to
        # expand the right number of image tokens.
        num_additional_image_tokens=1,
        chat_template=tokenizer.chat_template,
    )
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path
