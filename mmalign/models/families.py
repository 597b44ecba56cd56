"""Adapters for the supported families: LLaVA-1.5 style, Qwen2-VL / Qwen2.5-VL, and text-only causal LMs."""

from __future__ import annotations

import torch

from .adapter import ModelAdapter, Span, token_runs


def unwrap_model(model):
    """The transformers model under PEFT / DDP wrappers."""
    while True:
        if hasattr(model, "module") and isinstance(model.module, torch.nn.Module):
            model = model.module
        elif hasattr(model, "get_base_model"):
            model = model.get_base_model()
        else:
            return model


class LlavaAdapter(ModelAdapter):
    """LLaVA-1.5 style: CLIP tower, MLP projector, one fixed-size square token grid per image."""

    family = "llava"
    media_keys = ("pixel_values", "image_sizes")
    vision_prefixes = ("model.vision_tower",)
    projector_prefixes = ("model.multi_modal_projector",)
    language_prefixes = ("model.language_model", "lm_head")

    @property
    def image_token_id(self) -> int:
        return int(self.config.image_token_id)

    def grid_hw(self) -> tuple[int, int]:
        vc = self.config.vision_config
        side = vc.image_size // vc.patch_size
        return side, side

    def image_spans(self, batch):
        grid = self.grid_hw()
        per_image = grid[0] * grid[1]
        spans = []
        for ids in batch["input_ids"]:
            row = []
            for start, end in token_runs(ids, self.image_token_id):
                # Adjacent images form one run of image tokens; cut it into per-image spans.
                if (end - start) % per_image:
                    raise ValueError(f"a run of {end - start} image tokens is not a multiple of {per_image}")
                row += [Span(s, s + per_image, grid) for s in range(start, end, per_image)]
            spans.append(row)
        return spans

    def decoder_layers(self, model):
        return unwrap_model(model).model.language_model.layers


class QwenVLAdapter(ModelAdapter):
    """Qwen2-VL / Qwen2.5-VL: dynamic resolution, patches merged 2x2, M-RoPE positions from image_grid_thw."""

    family = "qwen2_vl"
    media_keys = ("pixel_values", "image_grid_thw", "pixel_values_videos", "video_grid_thw")
    token_keys = ("mm_token_type_ids",)
    vision_prefixes = ("model.visual.blocks", "model.visual.patch_embed")
    projector_prefixes = ("model.visual.merger",)
    language_prefixes = ("model.language_model", "lm_head")

    @property
    def image_token_id(self) -> int:
        return int(self.config.image_token_id)

    @property
    def merge(self) -> int:
        return int(self.config.vision_config.spatial_merge_size)

    def image_spans(self, batch):
        thw = batch.get("image_grid_thw")
        grids = [] if thw is None else [(int(t), int(h) // self.merge, int(w) // self.merge) for t, h, w in thw]
        spans, k = [], 0
        for ids in batch["input_ids"]:
            row = []
            for start, end in token_runs(ids, self.image_token_id):
                pos = start
                while pos < end:  # a run may hold several adjacent images
                    if k >= len(grids):
                        raise ValueError("more image-token runs than entries in image_grid_thw")
                    t, gh, gw = grids[k]
                    n = t * gh * gw
                    row.append(Span(pos, pos + n, (gh, gw)))
                    pos += n
                    k += 1
                if pos != end:
                    raise ValueError("image-token run does not match image_grid_thw")
            spans.append(row)
        return spans

    def decoder_layers(self, model):
        return unwrap_model(model).model.language_model.layers


class TextAdapter(ModelAdapter):
    """Text-only causal LMs (Llama, Qwen2, Mistral, ...)."""

    family = "text"
    is_vision = False

    def decoder_layers(self, model):
        return unwrap_model(model).model.layers


ADAPTERS: dict[str, type[ModelAdapter]] = {
    "llava": LlavaAdapter,
    "qwen2_vl": QwenVLAdapter,
    "qwen2_5_vl": QwenVLAdapter,
}


def adapter_for(config, processor) -> ModelAdapter:
    cls = ADAPTERS.get(getattr(config, "model_type", ""), TextAdapter)
    return cls(config, processor)

