"""The attention probe: equal to output_attentions=True, and steerable to a known image / cell."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from mmalign.augment import grid_collage, sequence
from mmalign.data.synth import draw_scene, sample_scene
from mmalign.models import load
from mmalign.select import AttentionProbe, PostFilter, Selector, attention_ratio, probing


def _images(n, px=32, seed=0):
    rng = random.Random(seed)
    return [draw_scene(sample_scene(rng), px=px) for _ in range(n)]


def _answers(loaded, texts):
    tok = loaded.adapter.tokenizer
    return [tok(t, add_special_tokens=False)["input_ids"] for t in texts]


@pytest.mark.parametrize("family", ["llava", "qwen"])
@pytest.mark.parametrize("layer,skip_last", [(None, True), (0, False)])
def test_probe_equals_output_attentions(family, layer, skip_last, tiny_llava_path, tiny_qwen_path):
    path = tiny_llava_path if family == "llava" else tiny_qwen_path
    loaded = load(path)
    prompts = ["Image1:<image>\nImage2:<image>\nIn Image2, what colour is it?", "<image>\nwhat shape?"]
    images = [_images(2), _images(1, px=48, seed=1)]
    answers = _answers(loaded, ["red circle big", "blue"])
    probe = AttentionProbe(loaded.model, loaded.processor, loaded.adapter, layer=layer, skip_last=skip_last)
    got = probe.measure(prompts, images, answers)
    inputs, rows = probe.build_inputs(prompts, images, answers)

    eager = load(path)
    eager.model.set_attn_implementation("eager")
    with torch.no_grad():
        attn = eager.model(**inputs, output_attentions=True, use_cache=False).attentions[probe.layer]
    for i, res in enumerate(got):
        assert res.n_rows == len(rows[i]) == (len(answers[i]) - (1 if skip_last and len(answers[i]) > 1 else 0))
        want = attn[i, :, rows[i]].mean(0).mean(0)  # heads, then query rows
        assert len(res.spans) == len(images[i])
        for span, share, grid_map in zip(res.spans, res.shares, res.maps):
            expected = want[span.start:span.end]
            assert share == pytest.approx(float(expected.sum()), abs=1e-5)
            assert grid_map.shape == span.grid_hw
            np.testing.assert_allclose(grid_map.reshape(-1), expected.numpy(), atol=1e-6)


def test_probing_restores_the_layer(tiny_llava):
    probe = AttentionProbe(tiny_llava.model, tiny_llava.processor, tiny_llava.adapter)
    config = probe.attn_module.config
    with probing(probe.attn_module, torch.zeros((1, 1), dtype=torch.long)):
        assert probe.attn_module.config is not config
        assert config._attn_implementation != "mmalign_attention_probe"
    assert probe.attn_module.config is config
    assert not hasattr(probe.attn_module, "_mmalign_probe_state")


def _steer(attn, positions, strength=12.0):
    """Hooks making every query of `attn` attend to key `positions`: one lowest-frequency rotary
    dimension per head carries a large value (rotation over ~100 positions is negligible there)."""
    d = attn.head_dim
    heads = attn.q_proj.out_features // d
    dims = [h * d + d // 2 - 1 for h in range(heads)]

    def q_hook(_m, _i, out):
        new = torch.zeros_like(out)
        new[..., dims] = strength
        return new

    def k_hook(_m, _i, out):
        new = torch.zeros_like(out)
        if out.shape[1] > max(positions):  # the teacher-forced pass over the whole sequence
            for p in positions:
                new[:, p, dims] = strength
        return new

    return [attn.q_proj.register_forward_hook(q_hook), attn.k_proj.register_forward_hook(k_hook)]


def _measure_steered(loaded, aug, answer, pick):
    probe = AttentionProbe(loaded.model, loaded.processor, loaded.adapter)
    inputs, rows = probe.build_inputs([aug.prompt], [list(aug.images)], _answers(loaded, [answer]))
    spans = loaded.adapter.image_spans(inputs)[0]
    handles = _steer(probe.attn_module, pick(spans))
    try:
        return probe.measure_inputs(inputs, rows)[0]
    finally:
        for h in handles:
            h.remove()


@pytest.mark.parametrize("look_at_target", [True, False])
def test_steered_sequence_ratio_and_decision(tiny_llava, look_at_target):
    target, *others = _images(3, seed=4)
    aug = sequence(target, others, "What colour is the circle?", seed=0, target_index=1)
    watched = 1 if look_at_target else 2
    att = _measure_steered(tiny_llava, aug, "red square", lambda s: list(range(s[watched].start, s[watched].end)))
    ratio = attention_ratio(att, aug)
    assert ratio == pytest.approx(1.0 if look_at_target else 0.0, abs=1e-3)
    assert sum(att.shares) == pytest.approx(1.0, abs=1e-3)  # everything went to image tokens
    decision = Selector(post=PostFilter(min_ppl=None)).decide(aug, att, "red square", "A blue circle.")
    assert decision.keep is (not look_at_target)
    assert decision.reason == (None if not look_at_target else "attention_on_target")
    assert decision.threshold == 0.7


@pytest.mark.parametrize("look_at_target", [True, False])
def test_steered_collage_cell_ratio(tiny_llava, look_at_target):
    target, *others = _images(4, seed=5)
    aug = grid_collage(target, others, "What shape?", seed=0, target_index=2, cell=64, margin=8)
    # Tiny LLaVA: a 4x4 token grid over the 136x144 canvas; cell 2 (row 1, col 0) covers token rows 2-3,
    # cols 0-1. The other choice is token (0, 3), inside Image2's cell.
    cells = [(2, 0), (2, 1), (3, 0), (3, 1)] if look_at_target else [(0, 3)]
    att = _measure_steered(tiny_llava, aug, "circle", lambda s: [s[0].start + r * 4 + c for r, c in cells])
    ratio = attention_ratio(att, aug)
    assert ratio == pytest.approx(1.0 if look_at_target else 0.0, abs=1e-3)
    decision = Selector(post=PostFilter(min_ppl=None)).decide(aug, att, "circle", "A square.")
    assert decision.keep is (not look_at_target)
