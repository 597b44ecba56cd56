"""The shared-prefix forward gives the plain forward's log-probs, DPO loss and gradients."""

import pytest
import torch
from speed_kit import (
    assert_grads_close,
    assert_prefix_equals_plain,
    build_family,
    grads,
    records,
    setup,
    write_images,
)

from mmalign.losses import build_loss
from mmalign.train.logps import concatenated_forward
from mmalign.train.prefix import (
    prefix_forward,
    shares_prompt,
    supports_prefix_sharing,
)
from mmalign.train.reference import AdapterDisabled, FrozenCopy, reference_logps
from mmalign.train.step import PairForward, compute_loss


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    base = tmp_path_factory.mktemp("speed-prefix")
    write_images(base / "media")
    return {"root": base / "media", **{f: build_family(f, base / f) for f in ("llava", "qwen", "text")}}


def _run(model, reference, adapter, batch, pad, fwd):
    loss = build_loss("sigmoid", beta=0.1)
    out, pol = compute_loss(model, reference, loss, lambda m, b: fwd(m, adapter, b, pad), batch)
    out.losses.mean().backward()
    ref = reference_logps(reference, model, lambda m: fwd(m, adapter, batch, pad))
    return out.losses.detach(), pol, ref, grads(model)


@pytest.mark.parametrize("family", ["llava", "qwen"])
@pytest.mark.parametrize("mode", ["lora", "full"])
def test_prefix_equals_plain_logps_loss_and_grads(paths, family, mode):
    model, adapter, collator, pad = setup(paths[family], paths["root"], mode)
    reference = AdapterDisabled() if mode == "lora" else FrozenCopy(model)
    batch = collator(records())
    lengths = batch["prompt_attention_mask"].sum(1)
    assert lengths.unique().numel() == 3  # left-padded prompts of different lengths (1 and 3 images)
    plain = _run(model, reference, adapter, batch, pad, concatenated_forward)
    prefix = _run(model, reference, adapter, batch, pad, prefix_forward)
    for side in ("chosen", "rejected", "chosen_lengths", "rejected_lengths"):
        torch.testing.assert_close(getattr(prefix[1], side), getattr(plain[1], side), rtol=0, atol=1e-4)
        torch.testing.assert_close(getattr(prefix[2], side), getattr(plain[2], side), rtol=0, atol=1e-4)
    torch.testing.assert_close(prefix[0], plain[0], rtol=0, atol=1e-6)
    assert_grads_close(prefix[3], plain[3])
    if mode == "full":  # gradients reach the vision tower through the shared key/value cache
        vision = [g for n, g in prefix[3].items() if "vision_tower" in n or "visual" in n]
        assert vision and any(float(g.abs().max()) > 0 for g in vision)
    else:
        assert all("lora_" in n for n in prefix[3])


def test_text_family_prefix_equals_plain(paths):
    model, adapter, collator, pad = setup(paths["text"], paths["root"], "full")
    batch = collator(records(vision=False))
    assert supports_prefix_sharing(adapter, model)
    assert_prefix_equals_plain(model, adapter, batch, pad)


@pytest.mark.parametrize("family", ["llava", "qwen"])
def test_k_rejections_share_one_prompt_pass(paths, family):
    model, adapter, collator, pad = setup(paths[family], paths["root"], "lora")
    batch = collator(records())
    b, k = batch["prompt_input_ids"].shape[0], 3
    alts = [(batch["rejected_input_ids"], batch["rejected_attention_mask"]),
            (batch["chosen_input_ids"], batch["chosen_attention_mask"]),
            (batch["rejected_input_ids"].roll(1, 0), batch["rejected_attention_mask"].roll(1, 0))]
    width = max(ids.shape[1] for ids, _ in alts)

    def pad_to(t, v):
        return torch.nn.functional.pad(t, (0, width - t.shape[1]), value=v)

    ids = torch.stack([pad_to(i, pad) for i, _ in alts], 1).reshape(b * k, width)
    mask = torch.stack([pad_to(m, 0) for _, m in alts], 1).reshape(b * k, width)
    with torch.no_grad():
        got = prefix_forward(model, adapter, {**batch, "rejected_list_input_ids": ids,
                                              "rejected_list_attention_mask": mask}, pad)
        for j, (rid, rmask) in enumerate(alts):
            want = concatenated_forward(model, adapter, {**batch, "rejected_input_ids": rid,
                                                         "rejected_attention_mask": rmask}, pad)
            torch.testing.assert_close(got.rejected_list[:, j], want.rejected, rtol=0, atol=1e-4)
            torch.testing.assert_close(got.rejected_list_lengths[:, j], want.rejected_lengths)
        torch.testing.assert_close(got.rejected, got.rejected_list[:, 0], rtol=0, atol=1e-5)


@pytest.mark.parametrize("mode", ["full", "lora"])
def test_gradient_checkpointing_keeps_the_packed_forward(paths, mode):
    """Under checkpointing the policy's language model runs once per micro-batch on rows of prompt + all
    answers, and log-probs and gradients equal the plain forward's."""
    model, adapter, collator, pad = setup(paths["llava"], paths["root"], mode)
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    batch = collator(records())
    widths = []
    hook = adapter.decoder_layers(model)[0].register_forward_hook(lambda m, a, o: widths.append(a[0].shape))
    got = PairForward(adapter, pad, "packed")(model, batch)
    (got.chosen - got.rejected).sum().backward()
    hook.remove()
    g_pair = grads(model)
    b, p = batch["prompt_input_ids"].shape
    answer_width = max(batch["chosen_input_ids"].shape[1], batch["rejected_input_ids"].shape[1])
    # One call (recomputation in the backward runs the layer again: count the forward before backward
    # only), on B rows of prompt + two answer slots; the plain forward would be 2B rows of prompt + answer.
    assert widths[0][:2] == (b, p + 2 * answer_width)
    assert sum(w[0] == 2 * b for w in widths) == 0
    want = concatenated_forward(model, adapter, batch, pad)
    (want.chosen - want.rejected).sum().backward()
    torch.testing.assert_close(got.chosen, want.chosen, rtol=0, atol=1e-5)
    torch.testing.assert_close(got.rejected, want.rejected, rtol=0, atol=1e-5)
    assert_grads_close(g_pair, grads(model))


def test_changing_one_answer_leaves_the_others_unchanged(paths):
    model, adapter, collator, pad = setup(paths["llava"], paths["root"], "full")
    batch = collator(records())
    with torch.no_grad():
        before = prefix_forward(model, adapter, batch, pad)
        ids = batch["rejected_input_ids"].clone()
        ids[0, 0] = (ids[0, 0] + 1) % 50  # another token in record 0's rejected answer
        after = prefix_forward(model, adapter, {**batch, "rejected_input_ids": ids}, pad)
    torch.testing.assert_close(after.chosen, before.chosen, rtol=0, atol=1e-6)
    torch.testing.assert_close(after.rejected[1:], before.rejected[1:], rtol=0, atol=1e-6)
    assert not torch.isclose(after.rejected[0], before.rejected[0])


def test_support_and_dispatch(paths):
    from types import SimpleNamespace

    model, adapter, collator, _ = setup(paths["llava"], paths["root"], "lora")
    assert supports_prefix_sharing(adapter, model)
    assert not supports_prefix_sharing(SimpleNamespace(family="other"), model)
    text_cfg = model.get_base_model().config.text_config
    old = getattr(text_cfg, "layer_types", None)
    text_cfg.layer_types = ["sliding_attention"] * text_cfg.num_hidden_layers
    try:
        assert not supports_prefix_sharing(adapter, model)
    finally:
        text_cfg.layer_types = old
    batch = collator(records())
    assert shares_prompt(batch)
    assert not shares_prompt({**batch, "score_prompt": True})
    assert not shares_prompt({**batch, "rejected_media": {}})
