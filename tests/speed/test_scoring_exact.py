"""The packed scoring backend gives the concatenated layout's log-probs, token counts and gradients (fp32,
atol 1e-5) for every family, full and LoRA, checkpointing on and off, K = 1 and K = 4 rejections, DOVE's
joint scoring, mDPO/VDPO's altered media and Qwen2-VL videos; changing one answer leaves every other
answer unchanged; under checkpointing the language model runs once per micro-batch."""

import copy

import pytest
import torch
from speed_kit import (
    assert_packed_equals_concatenated,
    family_paths,
    grads,
    pair_scores,
    records,
    say,
    setup,
    video_records,
)

from mmalign.data.collate import PreferenceCollator
from mmalign.train.rejections import attach_rejected_list
from mmalign.train.scored_tokens import ScoreRequest
from mmalign.train.scoring_batch import from_collated


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    return family_paths(tmp_path_factory.mktemp("scoring"))


def _with_rejections(recs, k):
    """K rejections per record: its own, another record's, and short ones."""
    out = []
    for i, r in enumerate(recs):
        r = copy.copy(r)
        r.rejected_list = ([recs[(i + 1) % len(recs)].rejected] + [say(w) for w in ("no", "a red one", "two")])[:k - 1]
        out.append(r)
    return out


@pytest.mark.parametrize("checkpointing", [False, True])
@pytest.mark.parametrize("mode", ["full", "lora"])
@pytest.mark.parametrize("family", ["llava", "qwen", "text"])
def test_packed_equals_concatenated(paths, family, mode, checkpointing):
    model, adapter, collator, pad = setup(paths[family], paths["root"], mode)
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.train()
    batch = collator(records(vision=family != "text"))
    if family != "text":
        assert batch["prompt_attention_mask"].sum(1).unique().numel() == 3  # 1, 4 and 1 images, left-padded
    assert_packed_equals_concatenated(model, adapter, batch, pad)


@pytest.mark.parametrize("family", ["llava", "qwen", "text"])
def test_four_rejections_per_prompt(paths, family):
    model, adapter, collator, pad = setup(paths[family], paths["root"], "lora")
    recs = _with_rejections(records(vision=family != "text"), 4)
    got = assert_packed_equals_concatenated(model, adapter, attach_rejected_list(collator, recs, collator(recs)), pad)
    assert got.rejected.shape == (3, 4)


@pytest.mark.parametrize("family", ["llava", "qwen"])
def test_dove_joint_scoring(paths, family):
    """DOVE scores the prompt's text tokens too, and the rejected side has its own prompt (a context)."""
    model, adapter, _, pad = setup(paths[family], paths["root"], "full")
    collator = PreferenceCollator(adapter.processor, adapter, paths["root"], needs=frozenset({"joint"}))
    recs = records()
    for r in recs:
        r.rejected_prompt = [{"role": "user", "content": r.prompt[0]["content"][:-1] + [
            {"type": "text", "text": "a different question"}]}]
    batch = collator(recs)
    got = assert_packed_equals_concatenated(model, adapter, batch, pad)
    # By hand: the chosen side's sum is every text token of prompt + answer after the first, image
    # placeholders left out, from one plain forward over the glued row.
    ids = torch.cat([batch["prompt_input_ids"][0][batch["prompt_attention_mask"][0].bool()],
                     batch["chosen_input_ids"][0][batch["chosen_attention_mask"][0].bool()]])[None]
    media = {k: v[:1] for k, v in batch.items() if k == "pixel_values" and family == "llava"}
    if family == "qwen":
        media = {"pixel_values": batch["pixel_values"][:int(batch["image_grid_thw"][0].prod())],
                 "image_grid_thw": batch["image_grid_thw"][:1],
                 "mm_token_type_ids": batch["prompt_mm_token_type_ids"][0][batch["prompt_attention_mask"][0].bool()]}
        media["mm_token_type_ids"] = torch.cat([media["mm_token_type_ids"], torch.zeros(
            ids.shape[1] - media["mm_token_type_ids"].shape[0], dtype=torch.long)])[None]
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids, **media).logits[0, :-1].float(), -1)
        tok = logp.gather(1, ids[0, 1:, None])[:, 0]
        text = ~torch.isin(ids[0, 1:], torch.tensor(adapter.media_token_ids))
    torch.testing.assert_close(got.chosen[0].detach(), tok[text].sum(), rtol=0, atol=1e-4)
    assert float(got.chosen_lengths[0]) == float(text.sum())


@pytest.mark.parametrize("family", ["llava", "qwen"])
def test_altered_images(paths, family):
    """mDPO: the rejected side is the chosen answer under other images (contexts of their own)."""
    model, adapter, _, pad = setup(paths[family], paths["root"], "full")
    collator = PreferenceCollator(adapter.processor, adapter, paths["root"], needs=frozenset({"rejected_media"}))
    recs = records()
    for r in recs:
        r.rejected_images = list(reversed(r.images)) if len(r.images) > 1 else ["3.png"]
    batch = collator(recs)
    assert "rejected_media" in batch
    assert_packed_equals_concatenated(model, adapter, batch, pad)


@pytest.mark.parametrize("altered", [False, True])
def test_qwen_video(paths, altered):
    """Qwen2-VL video: M-RoPE positions advance through the video grid; VDPO's altered clips too."""
    model, adapter, _, pad = setup(paths["qwen"], paths["root"], "full")
    needs = frozenset({"rejected_media"}) if altered else frozenset()
    collator = PreferenceCollator(adapter.processor, adapter, paths["root"], needs=needs, num_frames=4)
    batch = collator(video_records())
    assert batch.get("pixel_values_videos") is not None
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    assert_packed_equals_concatenated(model, adapter, batch, pad)


def test_changing_one_answer_leaves_the_others_unchanged(paths):
    model, adapter, collator, pad = setup(paths["llava"], paths["root"], "full")
    recs = _with_rejections(records(), 4)
    batch = attach_rejected_list(collator, recs, collator(recs))
    with torch.no_grad():
        _, before = pair_scores(model, adapter, batch, pad, "packed")
        ids = batch["rejected_list_input_ids"].clone()
        ids[1, 0] = (ids[1, 0] + 1) % 50  # record 0's third rejection (prompt-major, K - 1 = 3 per record)
        _, after = pair_scores(model, adapter, {**batch, "rejected_list_input_ids": ids}, pad, "packed")
    changed = ~torch.isclose(after.rejected, before.rejected, rtol=0, atol=1e-6)
    assert changed.nonzero().tolist() == [[0, 2]]
    torch.testing.assert_close(after.chosen, before.chosen, rtol=0, atol=1e-6)


@pytest.mark.parametrize("mode", ["full", "lora"])
def test_checkpointing_runs_the_language_model_once(paths, mode):
    """Under checkpointing the decoder runs once per micro-batch (before the backward), on B rows of
    prompt + all answers, not 2B rows of prompt + answer."""
    model, adapter, collator, pad = setup(paths["llava"], paths["root"], mode)
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    recs = _with_rejections(records(), 4)
    batch = attach_rejected_list(collator, recs, collator(recs))
    shapes = []
    hook = adapter.decoder_layers(model)[0].register_forward_hook(lambda m, a, o: shapes.append(tuple(a[0].shape)))
    _, got = pair_scores(model, adapter, batch, pad, "packed")
    forward_calls = len(shapes)
    got.chosen.sum().backward()
    hook.remove()
    b, p = batch["prompt_input_ids"].shape
    width = max(batch[k].shape[1] for k in ("chosen_input_ids", "rejected_input_ids", "rejected_list_input_ids"))
    assert forward_calls == 1
    assert shapes[0][:2] == (b, p + 5 * width)  # prompt + 5 answer slots (chosen and 4 rejections)
    assert all(s == shapes[0] for s in shapes)  # a recomputation in the backward, if any, is the same call
    grads(model)


@pytest.mark.parametrize("family", ["llava", "qwen", "text"])
def test_optional_outputs_agree(paths, family):
    """Per-token log-probs sum to the answer's; the answer logits give them back; the last hidden state is
    the same in both layouts."""
    model, adapter, collator, pad = setup(paths[family], paths["root"], "lora")
    batch = collator(records(vision=family != "text"))
    request = ScoreRequest(token_logps=True, answer_logits=True, last_hidden=True)
    with torch.no_grad():
        packed, _ = pair_scores(model, adapter, batch, pad, "packed", request)
        concat, _ = pair_scores(model, adapter, batch, pad, "concatenated", request)
    sb, _ = from_collated(batch, adapter, pad)
    mask = sb.answer_mask.bool()
    for out in (packed, concat):
        torch.testing.assert_close(out.token_logps.sum(1), out.logps, rtol=0, atol=1e-5)
        again = torch.log_softmax(out.answer_logits.float(), -1).gather(2, sb.answer_ids[..., None])[..., 0]
        torch.testing.assert_close(again[mask], out.token_logps[mask], rtol=0, atol=1e-5)
        assert not out.token_logps[~mask].any()
    torch.testing.assert_close(packed.token_logps, concat.token_logps, rtol=0, atol=1e-5)
    torch.testing.assert_close(packed.last_hidden, concat.last_hidden, rtol=0, atol=1e-5)
    assert packed.last_hidden.shape[0] == 6


@pytest.mark.parametrize("aggregation", ["select", "mean"])
def test_online_pami_vdpo_sampler(paths, aggregation):
    """The online sampler's distances (answer logits under each candidate clip) and the loss over its K
    candidate contexts are the same in both layouts."""
    import numpy as np

    from mmalign.losses import build_loss
    from mmalign.train.reference import AdapterDisabled
    from mmalign.train.step import PairForward, compute_loss
    from mmalign.train.video_sampler import PamiVDPOOptions, PamiVDPOSampler

    model, adapter, _, pad = setup(paths["qwen"], paths["root"], "lora")
    collator = PreferenceCollator(adapter.processor, adapter, paths["root"], needs=frozenset({"rejected_media"}),
                                  num_frames=4, online_rejected=True)
    batch = collator(video_records())
    loss = build_loss("vdpo", aggregation=aggregation)
    got = {}
    for backend in ("concatenated", "packed"):
        forward = PairForward(adapter, pad, backend)
        sampler = PamiVDPOSampler(PamiVDPOOptions(k=3), processor=adapter.processor, forward=forward, total_steps=2,
                                  seed=0, aggregation=aggregation)
        sampled = sampler(batch, step=0, policy=model, reference=AdapterDisabled())
        out, pol = compute_loss(model, AdapterDisabled(), loss, forward, sampled)
        out.losses.sum().backward()
        got[backend] = (sampler.history[0]["distances"], pol, out.losses.detach(), grads(model))
    (d_c, pol_c, loss_c, g_c), (d_p, pol_p, loss_p, g_p) = got["concatenated"], got["packed"]
    assert d_p.shape == (2, 3) and np.allclose(d_p, d_c, rtol=0, atol=1e-5)
    assert pol_p.rejected.shape == (2, 1 if aggregation == "select" else 3)
    torch.testing.assert_close(pol_p.rejected, pol_c.rejected, rtol=0, atol=1e-5)
    torch.testing.assert_close(loss_p, loss_c, rtol=0, atol=1e-6)
    for name, g in g_p.items():
        torch.testing.assert_close(g, g_c[name], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("family", ["llava", "qwen"])
def test_trimmed_last_layer_equals_the_plain_model_call(paths, family):
    """Both backends skip the last layer's output projection and MLP before the first scored position;
    log-probs and gradients equal an ordinary model call with full logits and a full log-softmax."""
    from mmalign.train.concatenated import glue

    model, adapter, collator, pad = setup(paths[family], paths["root"], "full")
    batch = collator(records())
    _, got = pair_scores(model, adapter, batch, pad, "packed")
    (got.chosen.sum() - got.rejected.sum()).backward()
    g_got = grads(model)
    sums = []
    for side in ("chosen", "rejected"):
        extra = batch.get("prompt_mm_token_type_ids")
        ids, attn, ans, types = glue(batch["prompt_input_ids"], batch["prompt_attention_mask"], batch[f"{side}_input_ids"],
                                     batch[f"{side}_attention_mask"], pad, extra)
        media = {k: batch[k] for k in adapter.media_keys if batch.get(k) is not None}
        if types is not None:
            media["mm_token_type_ids"] = types
        logits = model(input_ids=ids, attention_mask=attn, **media).logits[:, :-1].float()
        token = torch.log_softmax(logits, -1).gather(2, ids[:, 1:, None])[..., 0]
        sums.append((token * ans[:, 1:]).sum(1))
    (sums[0].sum() - sums[1].sum()).backward()
    torch.testing.assert_close(got.chosen, sums[0], rtol=0, atol=1e-5)
    torch.testing.assert_close(got.rejected[:, 0], sums[1], rtol=0, atol=1e-5)
    g_want = grads(model)
    for name, g in g_got.items():
        torch.testing.assert_close(g, g_want[name], rtol=1e-4, atol=1e-5)
    assert adapter.decoder_layers(model)[-1]._mmalign_trims
