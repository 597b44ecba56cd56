"""Frozen vision: run the vision tower once per micro-batch for the policy and the reference.

Two cases, both exact (the same calls the model's own forward makes, in the same order):

- tower and projector frozen (LoRA, `freeze_projector: true`): the projected features are computed once
  and passed to every model call as `mm_encoder_outputs` (`FEATURES_KEY`).
- tower frozen, projector training (LLaVA full fine-tuning with the default `freeze_projector: false`):
  the tower's selected hidden states are computed once (`TOWER_KEY`, no gradient, nothing to learn
  there) and each model call runs only its own projector on them, with gradients for the policy's. The
  reference (a frozen copy, or the LoRA policy with adapters off) applies its projector to the same
  states, so policy and reference share one tower pass. LLaVA only: Qwen2-VL's merger sits inside its
  vision module, so there the whole module runs per call when it trains.

The cache rides on the ScoringBatch (`vision_cache`); only the packed backend reads it.

Not under FSDP2: the tower's embeddings and the projector sit in the root shard group, whose parameters
are gathered only inside the root module's forward, so a tower call outside it fails ("got mixed
torch.Tensor and DTensor", seen on an H200 with LLaVA-1.5-7B). There the model's own forward runs the
tower, once per model call (policy and reference: about 4% more compute for a 7B decoder behind a 0.3B
tower).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from ..models.families import unwrap_model

FEATURES_KEY = "image_features"  # precomputed mm_encoder_outputs (tower and projector frozen)
TOWER_KEY = "vision_states"  # precomputed tower outputs, projector still to run (tower frozen only)


def _roots(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    return prefixes + tuple({".".join(p.split(".")[:2]) for p in prefixes})  # e.g. model.visual


def _frozen(model, prefixes: tuple[str, ...]) -> bool:
    params = [p for n, p in unwrap_model(model).named_parameters() if n.startswith(prefixes)]
    return bool(params) and not any(p.requires_grad for p in params)


def vision_frozen(model, adapter) -> bool:
    """True when no parameter of the vision tower or projector requires a gradient."""
    roots = _roots(tuple(adapter.vision_prefixes) + tuple(adapter.projector_prefixes))
    return adapter.is_vision and bool(roots) and _frozen(model, roots)


def tower_frozen(model, adapter) -> bool:
    """True when the vision tower is frozen and the family can cache its output before the projector (the
    projector may train)."""
    return (adapter.caches_tower_states and bool(adapter.vision_prefixes)
            and _frozen(model, tuple(adapter.vision_prefixes)))


@torch.no_grad()
def compute_image_features(model, adapter, media: dict[str, Any]) -> dict[str, Any] | None:
    """The projected image/video features of the media, as `mm_encoder_outputs` for the model.

    Only valid for a frozen tower and projector (the features carry no gradient); then they serve policy
    and reference alike (LoRA never adapts them, and a frozen copy's equal the policy's).
    """
    return adapter.encode_media(model, media)


@torch.no_grad()
def compute_tower_states(model, adapter, media: dict[str, Any]) -> dict[str, Any] | None:
    """The frozen tower's output before the projector (families whose projector is separate: LLaVA)."""
    return adapter.tower_states(model, media)


def encoder_outputs(model, adapter, cache: dict[str, Any] | None) -> dict[str, Any] | None:
    """The `mm_encoder_outputs` argument for one model call from a scoring batch's vision cache (None
    without one)."""
    if not cache:
        return None
    if FEATURES_KEY in cache:
        return dict(cache[FEATURES_KEY])
    return adapter.project_tower_states(model, cache[TOWER_KEY])  # with gradients when the projector trains


def fsdp_sharded(model) -> bool:
    """True when `model` (as prepared by accelerate) is sharded by FSDP2's fully_shard."""
    try:
        from torch.distributed.fsdp import FSDPModule
    except ImportError:  # torch without FSDP2
        return False
    return isinstance(model, FSDPModule)


def add_vision_cache(model, adapter, sb):
    """`sb` (a ScoringBatch) carrying the frozen part of the vision computation of all its contexts'
    media, or `sb` itself when nothing is frozen, it is already there, or the model is FSDP-sharded."""
    if sb.vision_cache is not None or not adapter.is_vision or not sb.media or fsdp_sharded(model):
        return sb
    cache = None
    if vision_frozen(model, adapter):
        feats = compute_image_features(model, adapter, sb.media)
        cache = None if feats is None else {FEATURES_KEY: feats}
    elif tower_frozen(model, adapter):
        states = compute_tower_states(model, adapter, sb.media)
        cache = None if states is None else {TOWER_KEY: states}
    return sb if cache is None else dataclasses.replace(sb, vision_cache=cache)
