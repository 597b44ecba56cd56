"""Models: loading by name or path, family adapters, tiny models built offline, LoRA, generation."""

from .adapter import ModelAdapter, Span
from .families import adapter_for, unwrap_model
from .generate import Generation, generate
from .load import Loaded, load
from .tiny import TinyLlavaSpec, build_tiny_llava

__all__ = ["Generation", "Loaded", "ModelAdapter", "Span", "TinyLlavaSpec", "adapter_for", "build_tiny_llava",
           "generate", "load", "unwrap_model"]
