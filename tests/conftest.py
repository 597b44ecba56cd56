"""Shared fixtures: one tiny LLaVA and one small synthetic dataset per test session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_llava_path(tmp_path_factory):
    from mmalign.models.tiny import TinyLlavaSpec, build_tiny_llava

    # Smaller than the default tiny model: tests check plumbing, not learning.
    spec = TinyLlavaSpec(hidden_size=32, intermediate_size=64, vision_hidden_size=32, num_heads=2)
    return build_tiny_llava(tmp_path_factory.mktemp("tiny-llava"), spec)


@pytest.fixture(scope="session")
def tiny_qwen_path(tmp_path_factory):
    from mmalign.models.tiny_qwen import build_tiny_qwen2_vl

    return build_tiny_qwen2_vl(tmp_path_factory.mktemp("tiny-qwen"))


@pytest.fixture(scope="session")
def tiny_llava(tiny_llava_path):
    from mmalign.models import load

    return load(tiny_llava_path)


@pytest.fixture(scope="session")
def synth_pairs(tmp_path_factory):
    from mmalign.data.synth import write_preference_pairs

    root = tmp_path_factory.mktemp("synth")
    return write_preference_pairs(root, seed=3, count=16), root
