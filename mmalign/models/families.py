"""Adapters for the supported families: LLaVA-1.5 style, Qwen2-VL / Qwen2.5-VL, and text-only causal LMs."""

from __future__ import annotations

import contextlib

import torch
from transformers.modeling_outputs import BaseModelOutputWithPooling

from .adapter import ModelAdapter, Span, items_per_row, take_items, token_runs


def unwrap_model(model):
    """The transformers model under PEFT / DDP wrappers."""
    while True:
        if hasattr(model, "module") and isinstance(model.module, torch.nn.Module):
            model = model.module
        elif hasattr(model, "get_base_model"):
            model = model.get_base_model()
        else:
            return model


def _features(out) -> BaseModelOutputWithPooling:
    return BaseModelOutputWithPooling(pooler_output=tuple(out.pooler_output))


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

    def final_norm(self, model):
        return unwrap_model(model).model.language_model.norm

    @property
    def media_token_ids(self) -> tuple[int, ...]:
        return (self.image_token_id,)

    caches_tower_states = True

    def _image_features(self, model, media):
        sizes = media.get("image_sizes")
        return unwrap_model(model).model.get_image_features(
            pixel_values=media["pixel_values"], return_dict=True, **({"image_sizes": sizes} if sizes is not None else {}))

    def encode_media(self, model, media):
        if media.get("pixel_values") is None:
            return None
        return {"image": _features(self._image_features(model, media))}

    def tower_states(self, model, media):
        if media.get("pixel_values") is None:
            return None
        with _projector_off(unwrap_model(model).model):
            feats = self._image_features(model, media)
        return {"states": tuple(feats.pooler_output), "image_sizes": media.get("image_sizes")}

    def project_tower_states(self, model, cached):
        """Cached tower states through `model`'s own projector, shaped as LLaVA's get_image_features applies
        it: over the stacked [N, T, D] states, or the concatenated [1, sum T, D] ones split back by image
        when the batch has sizes."""
        projector = unwrap_model(model).model.multi_modal_projector
        states = cached["states"]
        if cached["image_sizes"] is None:
            feats = tuple(projector(torch.stack(states)))
        else:
            feats = torch.split(projector(torch.cat(states).unsqueeze(0)).squeeze(0), [s.shape[0] for s in states])
        return {"image": BaseModelOutputWithPooling(pooler_output=tuple(feats))}

    def select_media(self, media, ids, rows):
        if media.get("pixel_values") is None:
            return {}
        per_image = self.grid_hw()[0] * self.grid_hw()[1]
        n_images = int(media["pixel_values"].shape[0])
        owned = items_per_row(ids, self.image_token_id, [per_image] * n_images)
        picks = [i for r in rows.tolist() for i in owned[r]]
        out = {"pixel_values": media["pixel_values"][picks]}
        if media.get("image_sizes") is not None:
            out["image_sizes"] = media["image_sizes"][picks]
        return out


class QwenVLAdapter(ModelAdapter):
    """Qwen2-VL / Qwen2.5-VL: dynamic resolution, patches merged 2x2, M-RoPE positions from image_grid_thw."""

    family = "qwen2_vl"
    # second_per_grid_ts: Qwen2.5-VL's seconds per temporal grid step of each video (M-RoPE time axis).
    media_keys = ("pixel_values", "image_grid_thw", "pixel_values_videos", "video_grid_thw", "second_per_grid_ts")
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

    def final_norm(self, model):
        return unwrap_model(model).model.language_model.norm

    @property
    def video_token_id(self) -> int:
        return int(self.config.video_token_id)

    @property
    def media_token_ids(self) -> tuple[int, ...]:
        return (self.image_token_id, self.video_token_id)

    def encode_media(self, model, media):
        inner = unwrap_model(model).model
        out = {}
        if media.get("pixel_values") is not None:
            out["image"] = _features(inner.get_image_features(media["pixel_values"], media["image_grid_thw"],
                                                              return_dict=True))
        if media.get("pixel_values_videos") is not None:
            out["video"] = _features(inner.get_video_features(media["pixel_values_videos"], media["video_grid_thw"],
                                                              return_dict=True))
        return out or None

    def context_positions(self, model, ids, mask, token_types, media):
        """M-RoPE positions [3, C, P] from the model's own `get_rope_index` (media advance the positions by
        their grid; Qwen2.5-VL's video time axis by `second_per_grid_ts`), pads ignored and set to 0."""
        if media.get("image_grid_thw") is None and media.get("video_grid_thw") is None:
            return super().context_positions(model, ids, mask, token_types, media).unsqueeze(0).expand(3, -1, -1)
        extra = {"second_per_grid_ts": media["second_per_grid_ts"]} if media.get("second_per_grid_ts") is not None else {}
        pos, _ = unwrap_model(model).model.get_rope_index(
            ids, mm_token_type_ids=token_types["mm_token_type_ids"], image_grid_thw=media.get("image_grid_thw"),
            video_grid_thw=media.get("video_grid_thw"), attention_mask=mask, **extra)
        return pos.masked_fill(mask.unsqueeze(0) == 0, 0)

    def select_media(self, media, ids, rows):
        out: dict = {}
        merge = self.merge ** 2
        for token_id, pixels, grid, extra in ((self.image_token_id, "pixel_values", "image_grid_thw", None),
                                              (self.video_token_id, "pixel_values_videos", "video_grid_thw",
                                               "second_per_grid_ts")):
            if media.get(grid) is None:
                continue
            patches = [int(t * h * w) for t, h, w in media[grid].tolist()]
            owned = items_per_row(ids, token_id, [n // merge for n in patches])
            picks = [i for r in rows.tolist() for i in owned[r]]
            out[pixels] = take_items(media[pixels], patches, picks)
            out[grid] = media[grid][picks]
            if extra and media.get(extra) is not None:
                out[extra] = torch.as_tensor(media[extra])[picks]
        return out


class TextAdapter(ModelAdapter):
    """Text-only causal LMs (Llama, Qwen2, Mistral, ...)."""

    family = "text"
    is_vision = False

    def decoder_layers(self, model):
        return unwrap_model(model).model.layers

    def final_norm(self, model):
        return unwrap_model(model).model.norm


ADAPTERS: dict[str, type[ModelAdapter]] = {
    "llava": LlavaAdapter,
    "qwen2_vl": QwenVLAdapter,
    "qwen2_5_vl": QwenVLAdapter,
}


def adapter_for(config, processor) -> ModelAdapter:
    cls = ADAPTERS.get(getattr(config, "model_type", ""), TextAdapter)
    return cls(config, processor)

