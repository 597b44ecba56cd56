"""balance_answers: each answer-word pair kept at most as often as its reverse (hand-worked counts)."""

import pytest

from mmalign.data.transforms import apply_transforms, balance_answers


def pair(i, chosen, rejected, fmt="sequence"):
    return {"id": f"p{i}", "prompt": "Which colour?", "chosen": chosen, "rejected": rejected, "meta": {"format": fmt}}


def test_lopsided_colour_pairs_are_cut_to_their_reverse_count():
    records = [pair(0, "Green.", "Blue."), pair(1, "Green.", "Blue."), pair(2, "Green.", "Blue."),
               pair(3, "Blue.", "Green."),                      # 3 green>blue, 1 blue>green: keep 1 of each
               pair(4, "Red.", "Yellow."),                      # no reverse: dropped
               pair(5, "A circle.", "A square."),               # a shape pair: not a balanced kind, kept
               pair(6, "Green.", "Blue.", fmt="pic_in_pic"),    # another format: its own count, no reverse
               pair(7, "Blue.", "Green.", fmt="pic_in_pic")]    # ... now it has one: both kept
    kept = [r["id"] for r in balance_answers(records)]
    assert kept == ["p0", "p3", "p5", "p6", "p7"]


def test_across_formats_and_for_shapes():
    records = [pair(0, "Green.", "Blue."), pair(1, "Blue.", "Green.", fmt="pic_in_pic"),
               pair(2, "A circle.", "A square."), pair(3, "A circle.", "A square.")]
    assert [r["id"] for r in balance_answers(records, kinds="colour,shape", by_format=False)] == ["p0", "p1"]


def test_answers_as_chat_messages_and_through_the_config():
    msg = lambda text: [{"role": "assistant", "content": [{"type": "text", "text": text}]}]  # noqa: E731
    records = [pair(0, msg("Purple."), msg("Orange.")), pair(1, msg("Purple."), msg("Orange."))]
    assert apply_transforms(records, [{"name": "balance_answers"}]) == []


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="kinds must name"):
        balance_answers([pair(0, "Red.", "Blue.")], kinds="flavour")
