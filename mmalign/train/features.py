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

Batches the shared-prefix forward will not handle get nothing added; the plain forward ignores these keys.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from transformers.modeling_outputs import BaseModelOutputWithPooling

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
    """True when the LLaVA vision tower is frozen (the projector may train)."""
    return (adapter.family == "llava" and bool(adapter.vision_prefixes)
            and _frozen(model, tuple(adapter.vision_prefixes)))


@torch.no_grad()
def compute_image_features(model, adapter, batch: dict[str, Any]) -> dict[str, BaseModelOutputWithPooling] | None:
    """The projected image/video features of a batch's media, as `mm_encoder_outputs` for the model.

    Only valid for a frozen tower and projector (the features carry no gradient); then they serve policy
    and reference alike (LoRA never adapts them, and a frozen copy's equal the policy's).
    """
    inner = unwrap_model(model).model
    out: dict[str, BaseModelOutputWithPooling] = {}
    if adapter.family == "llava" and batch.get("pixel_values") is not None:
        kw = {"image_sizes": batch["image_sizes"]} if batch.get("image_sizes") is not None else {}
        feats = inner.get_image_features(pixel_values=batch["pixel_values"], return_dict=True, **kw)
        out["image"] = BaseModelOutputWithPooling(pooler_output=tuple(feats.pooler_output))
    elif adapter.family == "qwen2_vl":
        if batch.get("pixel_values") is not None:
            feats = inner.get_image_features(batch["pixel_values"], batch["image_grid_thw"], return_dict=True)
            out["image"] = BaseModelOutputWithPooling(pooler_output=tuple(feats.pooler_output))
        if batch.get("pixel_values_videos") is not None:
            feats = inner.get_video_features(batch["pixel_values_videos"], batch["video_grid_thw"], return_dict=True)
            out["video"] = BaseModelOutputWithPooling(pooler_output=tuple(feats.pooler_output))
    return out or None


@contextlib.contextmanager
def _projector_off(inner):
    """LLaVA's get_image_features with the projector replaced by the identity: it then returns the tower's
    selected hidden states, chosen by the model's own code (feature layer(s), CLS strategy, image sizes)."""
    projector = inner.multi_modal_projector
    inner.multi_modal_projector = torch.nn.Identity()
    try:
        yield
    finally:
        inner.multi_modal_projector = projector


@torch.no_grad()
def compute_tower_states(model, adapter, batch: dict[str, Any]) -> dict[str, Any] | None:
    """LLaVA: the frozen tower's selected hidden states for the batch's images, before the projector."""
    if adapter.family != "llava" or batch.get("pixel_values") is None:
        return None
    inner = unwrap_model(model).model
    sizes = batch.get("image_sizes")
    with _projector_off(inner):
        feats = inner.get_image_features(pixel_values=batch["pixel_values"], return_dict=True,
                                         **({"image_sizes": sizes} if sizes is not None else {}))
    return {"states": tuple(feats.pooler_output), "image_sizes": sizes}


def project_tower_states(model, cached: dict[str, Any]) -> dict[str, BaseModelOutputWithPooling]:
    """`mm_encoder_outputs` from cached tower states through `model`'s own projector (with gradients when
    it trains), shaped exactly as LLaVA's get_image_features applies it: over the stacked [N, T, D]
    states, or over the concatenated [1, sum T, D] ones split back by image when the batch has sizes."""
    projector = unwrap_model(model).model.multi_modal_projector
    states = cached["states"]
    if cached["image_sizes"] is None:
        feats = tuple(projector(torch.stack(states)))
    else:
        feats = torch.split(projector(torch.cat(states).unsqueeze(0)).squeeze(0), [s.shape[0] for s in states])
    return {"image": BaseModelOutputWithPooling(pooler_output=tuple(feats))}


def encoder_outputs(model, batch: dict[str, Any]) -> dict[str, Any] | None:
    """The `mm_encoder_outputs` argument for one model call from the cached keys, or None without them."""
    if FEATURES_KEY in batch:
        return dict(batch[FEATURES_KEY])
    if TOWER_KEY in batch:
        return project_tower_states(model, batch[TOWER_KEY])
    return None


def add_vision_cache(model, adapter, batch: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy of `batch` carrying the frozen part of the vision computation, or `batch` itself
    when nothing is frozen (or it is already there)."""
    if FEATURES_KEY in batch or TOWER_KEY in batch or not adapter.is_vision:
        return batch
    if vision_frozen(model, adapter):
        feats = compute_image_features(model, adapter, batch)
        return batch if feats is None else {**batch, FEATURES_KEY: feats}
    if tower_frozen(model, adapter):
        states = compute_tower_states(model, adapter, batch)
        return batch if states is None else {**batch, TOWER_KEY: states}
    return batch
