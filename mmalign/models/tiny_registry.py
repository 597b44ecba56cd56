"""Names of the tiny models a config may ask for, mapped to their builders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .tiny import TinyLlavaSpec, build_tiny_llava
from .tiny_qwen import build_tiny_qwen2_vl
from .tiny_text import build_tiny_llama


def _llava(path: Path, seed: int = 0) -> Path:
    return build_tiny_llava(path, TinyLlavaSpec(seed=seed))


TINY_BUILDERS: dict[str, Callable[..., Path]] = {
    "tiny-llava": _llava,
    "tiny-qwen2-vl": build_tiny_qwen2_vl,
    "tiny-llama": build_tiny_llama,
}
