"""Frozen vision: image features computed once per pair serve policy and reference, with equal results."""

import pytest
import torch
from speed_kit import assert_grads_close, build_family, loss_plain_and_cached, records, setup, write_images

from mmalign.losses import build_loss
from mmalign.models.families import unwrap_model
from mmalign.train.features import FEATURES_KEY, compute_image_features, vision_frozen
from mmalign.train.reference import AdapterDisabled, FrozenCopy
from mmalign.train.step import PairForward


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    base = tmp_path_factory.mktemp("speed-features")
    write_images(base / "media")
    return {"root": base / "media", **{f: build_family(f, base / f) for f in ("llava", "qwen")}}


def _tower(model, family):
    inner = unwrap_model(model).model
    return inner.vision_tower if family == "llava" else inner.visual


@pytest.mark.parametrize("family", ["llava", "qwen"])
def test_cached_features_equal_the_models_own(paths, family):
    model, adapter, collator, _ = setup(paths[family], paths["root"], "lora")
    batch = collator(records())
    feats = compute_image_features(model, adapter, {k: batch[k] for k in adapter.media_keys if k in batch})
    feats = feats["image"].pooler_output
    seen = {}
    inner = unwrap_model(model).model
    hook = inner.register_forward_hook(lambda m, a, out: seen.update(image=out.image_outputs))
    with torch.no_grad():
        model(input_ids=batch["prompt_input_ids"], attention_mask=batch["prompt_attention_mask"],
              **{k: batch[k] for k in adapter.media_keys if k in batch},
              **{k: batch[f"prompt_{k}"] for k in adapter.token_keys if f"prompt_{k}" in batch})
    hook.remove()
    own = seen["image"].pooler_output
    assert len(feats) == len(own) == 6  # 1 + 4 + 1 images
    for a, b in zip(feats, own):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("family", ["llava", "qwen"])
@pytest.mark.parametrize("mode", ["lora", "frozen-vision"])
def test_features_once_for_policy_and_reference(paths, family, mode):
    model, adapter, collator, pad = setup(paths[family], paths["root"], mode)
    assert vision_frozen(model, adapter)
    reference = AdapterDisabled() if mode == "lora" else FrozenCopy(model)
    loss = build_loss("sigmoid", beta=0.1)
    batch = collator(records())
    towers = [_tower(model, family)] + ([_tower(reference.model, family)] if mode != "lora" else [])
    plain, cached = loss_plain_and_cached(model, reference, loss, adapter, batch, pad, towers, FEATURES_KEY)
    assert plain[3] == 2 and cached[3] == 1  # the vision tower ran once for policy and reference together
    torch.testing.assert_close(cached[0], plain[0], rtol=0, atol=1e-6)
    torch.testing.assert_close(cached[1].chosen, plain[1].chosen, rtol=0, atol=1e-4)
    torch.testing.assert_close(cached[1].rejected, plain[1].rejected, rtol=0, atol=1e-4)
    assert_grads_close(cached[2], plain[2])


def test_trainable_vision_gets_no_cached_features(paths):
    model, adapter, collator, pad = setup(paths["llava"], paths["root"], "full")
    assert not vision_frozen(model, adapter)
    sb, _ = PairForward(adapter, pad, "packed").prepare(model, collator(records()))
    assert sb.vision_cache is None


def test_no_vision_cache_under_fsdp2(paths):
    """Under fully_shard the tower's embeddings live in the root shard group, gathered only inside the root
    forward: the cache is skipped and the model's own forward runs the tower (the class swap below is what
    fully_shard does to the module it shards)."""
    from torch.distributed.fsdp import FSDPModule

    model, adapter, collator, pad = setup(paths["llava"], paths["root"], "lora")
    forward = PairForward(adapter, pad)
    batch = collator(records())
    assert forward.prepare(model, batch)[0].vision_cache is not None
    model.__class__ = type(f"FSDP{type(model).__name__}", (FSDPModule, type(model)), {})
    assert forward.prepare(model, batch)[0].vision_cache is None
