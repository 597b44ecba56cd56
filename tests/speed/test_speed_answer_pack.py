"""Answers packed side by side in their prompt's row: the mask keeps them apart, eager attention (additive
mask) gives the plain numbers too, and prompts with different numbers of answers pack correctly."""

import pytest
import torch
from speed_kit import (
    assert_prefix_equals_plain,
    build_family,
    records,
    setup,
    write_images,
)

from mmalign.train.answer_pack import pack_answers, packed_attention_mask, packed_row_mask
from mmalign.train.logps import concatenated_forward
from mmalign.train.prefix import shared_prefix_logps


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
    assert_prefix_equals_plain(model, adapter, batch, pad)


def test_uneven_answers_per_prompt(paths):
    model, adapter, collator, pad = setup(paths["llava"], paths["root"], "lora")
    batch = collator(records())
    rows = torch.arange(3)
    extra = (batch["chosen_input_ids"][:1], batch["chosen_attention_mask"][:1], torch.tensor([2]))
    with torch.no_grad():
        got = shared_prefix_logps(model, adapter, batch, [
            (batch["chosen_input_ids"], batch["chosen_attention_mask"], rows),
            (batch["rejected_input_ids"][1:], batch["rejected_attention_mask"][1:], rows[1:]), extra], pad)
        want = concatenated_forward(model, adapter, batch, pad)
        swapped = concatenated_forward(model, adapter, {**batch, "chosen_input_ids": batch["chosen_input_ids"][[1, 1, 0]],
                                                        "chosen_attention_mask": batch["chosen_attention_mask"][[1, 1, 0]]},
                                       pad)
    torch.testing.assert_close(got[0][0], want.chosen, rtol=0, atol=1e-4)
    torch.testing.assert_close(got[1][0], want.rejected[1:], rtol=0, atol=1e-4)
    # prompt 2 scored record 0's chosen answer
    torch.testing.assert_close(got[2][0], swapped.chosen[2:], rtol=0, atol=1e-4)
    assert got[2][1].tolist() == [float(batch["chosen_attention_mask"][0].sum())]
