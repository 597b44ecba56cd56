"""Frozen tower, training projector (LLaVA): the tower runs once for policy and reference, each model
applies its own projector, and log-probs, loss and gradients equal the plain computation."""

import pytest
import torch
from speed_kit import assert_grads_close, build_family, loss_plain_and_cached, records, setup, write_images

from mmalign.losses import build_loss
from mmalign.models.families import unwrap_model
from mmalign.train.features import TOWER_KEY, tower_frozen, vision_frozen
from mmalign.train.reference import AdapterDisabled, FrozenCopy
from mmalign.train.step import PairForward, compute_loss


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    base = tmp_path_factory.mktemp("speed-tower")
    write_images(base / "media")
    return {"root": base / "media", "llava": build_family("llava", base / "llava")}


def _setup(paths, mode):
    """'full': tower frozen, projector and decoder train (the benchmark's setting); 'lora': LoRA on the
    decoder with the projector made trainable too."""
    model, adapter, collator, pad = setup(paths["llava"], paths["root"], "lora" if mode == "lora" else "full")
    inner = unwrap_model(model).model
    inner.vision_tower.requires_grad_(False)
    inner.multi_modal_projector.requires_grad_(True)
    return model, adapter, collator, pad


@pytest.mark.parametrize("mode", ["full", "lora"])
def test_tower_once_projector_per_model_equals_plain(paths, mode):
    model, adapter, collator, pad = _setup(paths, mode)
    assert tower_frozen(model, adapter) and not vision_frozen(model, adapter)
    reference = AdapterDisabled() if mode == "lora" else FrozenCopy(model)
    loss = build_loss("sigmoid", beta=0.1)
    batch = collator(records())
    towers = [unwrap_model(model).model.vision_tower] + ([] if mode == "lora" else [reference.model.model.vision_tower])
    plain, cached = loss_plain_and_cached(model, reference, loss, adapter, batch, pad, towers, TOWER_KEY)
    assert plain[3] == 2 and cached[3] == 1  # one tower pass serves policy and reference
    torch.testing.assert_close(cached[0], plain[0], rtol=0, atol=1e-6)
    torch.testing.assert_close(cached[1].chosen, plain[1].chosen, rtol=0, atol=1e-4)
    torch.testing.assert_close(cached[1].rejected, plain[1].rejected, rtol=0, atol=1e-4)
    assert_grads_close(cached[2], plain[2])
    projector = [g for n, g in cached[2].items() if "multi_modal_projector" in n]
    assert projector and all(float(g.abs().max()) > 0 for g in projector)  # the projector still learns
    assert not any("vision_tower" in n for n in cached[2])


def test_trainer_forward_uses_the_tower_cache(paths):
    model, adapter, collator, pad = _setup(paths, "full")
    batch = collator(records())
    seen = []
    hook = unwrap_model(model).model.vision_tower.register_forward_hook(lambda *a: seen.append(1))
    out, _ = compute_loss(model, FrozenCopy(model), build_loss("sigmoid", beta=0.1), PairForward(adapter, pad), batch)
    hook.remove()
    assert len(seen) == 1 and torch.isfinite(out.losses).all()


def test_trainable_tower_gets_no_cache(paths):
    model, adapter, collator, pad = setup(paths["llava"], paths["root"], "full")
    assert not tower_frozen(model, adapter)
    sb, _ = PairForward(adapter, pad, "packed").prepare(model, collator(records()))
    assert sb.vision_cache is None
