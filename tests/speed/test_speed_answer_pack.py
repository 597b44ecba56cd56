"""Answers packed side by side in their prompt's row: the mask keeps them apart, eager attention (additive
mask) gives the plain numbers too, and prompts with different numbers of answers pack correctly."""

import pytest
import torch
from speed_kit import (
    assert_packed_equals_concatenated,
    build_family,
    records,
    setup,
    write_images,
)

from mmalign.train.answer_pack import pack_answers, packed_attention_mask, packed_row_mask
from mmalign.train.concatenated import concatenated_scores
from mmalign.train.packed import packed_scores
from mmalign.train.scoring_batch import ScoringBatch, from_collated


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    base = tmp_path_factory.mktemp("speed-pack")
    write_images(base / "media")
    return {"root": base / "media", **{f: build_family(f, base / f) for f in ("llava", "text")}}


def test_pack_slots_and_mask():
    ids = torch.tensor([[5, 6, 7], [8, 0, 0], [9, 9, 0]])
    mask = torch.tensor([[1, 1, 1], [1, 0, 0], [1, 1, 0]])
    # prompt row 0 gets two answers, row 1 one, row 2 none
    packed = pack_answers([(ids[:2], mask[:2], torch.tensor([0, 1])), (ids[2:], mask[2:], torch.tensor([0]))],
                          rows=3, pad_id=0)
    assert packed.ids.shape == (3, 2, 3)
    assert packed.slot.tolist() == [0, 0, 1] and packed.owner.tolist() == [0, 1, 0]
    assert packed.ids[0, 1].tolist() == [9, 9, 0] and packed.mask[2].sum() == 0
    prompt_mask = torch.tensor([[0, 1], [1, 1], [1, 1]])
    m = packed_attention_mask(prompt_mask, packed)  # [3, 1, 6, 2 + 6]
    assert m.shape == (3, 1, 6, 8)
    row0 = m[0, 0]
    assert not row0[:, 0].any() and row0[:, 1].all()  # the prompt's pad is never seen, its tokens always
    assert row0[4, 2 + 3:2 + 5].tolist() == [True, True]  # slot 1, token 1 sees slot 1 tokens 0..1
    assert not row0[4, 2:2 + 3].any()  # ...and nothing of slot 0
    assert row0[1, 2:2 + 3].tolist() == [True, True, False]  # causal inside a slot
    additive = packed_attention_mask(prompt_mask, packed, torch.float32)
    assert torch.equal(additive == 0, m)
    # The whole row [prompt | slot 0 | slot 1]: the prompt is causal over its real tokens and sees no
    # answer; answer rows are the answer pass's mask; every position sees at least itself.
    full = packed_row_mask(prompt_mask, packed)[:, 0]  # [3, 8, 8]
    assert full.shape == (3, 8, 8)
    assert torch.equal(full[:, 2:], m[:, 0] | torch.eye(8, dtype=torch.bool)[2:])
    assert full[0, :2, :2].tolist() == [[True, False], [False, True]]  # pad sees itself only; token 1 not the pad
    assert full[1, :2, :2].tolist() == [[True, False], [True, True]]
    assert not full[:, :2, 2:].any()
    assert torch.equal(packed_row_mask(prompt_mask, packed, torch.float32) == 0, packed_row_mask(prompt_mask, packed))


@pytest.mark.parametrize("family", ["llava", "text"])
def test_eager_attention_packed_equals_plain(paths, family):
    model, adapter, collator, pad = setup(paths[family], paths["root"], "full")
    model.set_attn_implementation("eager")
    batch = collator(records(vision=family == "llava"))
    assert_packed_equals_concatenated(model, adapter, batch, pad)


def test_uneven_answers_per_context(paths):
    """Contexts with 2, 1 and 1 answers (context 0: its chosen and rejected, context 1: its chosen, context 2:
    record 0's chosen answer): every answer scores as it does glued alone after its context."""
    model, adapter, collator, pad = setup(paths["llava"], paths["root"], "lora")
    full, _ = from_collated(collator(records()), adapter, pad)
    a = full.answers // 2  # chosen answers are 0..B-1, rejected B..2B-1
    pick = torch.tensor([0, a, 1, 0])
    sb = ScoringBatch(full.context_ids, full.context_mask, full.context_tokens, full.media,
                      full.answer_ids[pick], full.answer_mask[pick], torch.tensor([0, 0, 1, 2]))
    with torch.no_grad():
        got = packed_scores(model, adapter, sb, pad)
        want = concatenated_scores(model, adapter, sb, pad)
    torch.testing.assert_close(got.logps, want.logps, rtol=0, atol=1e-5)
    assert got.counts.tolist() == want.counts.tolist() == full.answer_mask[pick].sum(1).float().tolist()
