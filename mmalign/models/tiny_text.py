"""A tiny text-only Llama built from config, for text preference data through the same trainer."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from ..data.synth import vocabulary
from .tokenizer import build_word_tokenizer


def build_tiny_llama(path: str | Path, *, hidden_size: int = 64, num_layers: int = 2, seed: int = 0,
                     extra_words=()) -> Path:
    path = Path(path)
    tok = build_word_tokenizer(vocabulary() + list(extra_words))
    config = LlamaConfig(vocab_size=len(tok), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
                         num_hidden_layers=num_layers, num_attention_heads=4, num_key_value_heads=4,
                         max_position_embeddings=2048, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                         eos_token_id=tok.eos_token_id, tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path
