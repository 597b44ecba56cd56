"""DataOrder with group_by_length: every record once per epoch, similar lengths per micro-batch, the same
accumulation / world-size invariance as the plain order, and less padding."""

import random

import pytest

from mmalign.train.order import DataOrder


def _lengths(n, seed=0):
    rng = random.Random(seed)
    return tuple(rng.choice((80, 150, 220, 300)) + rng.randrange(10) for _ in range(n))


def _padding(order, lengths, steps):
    padded = real = 0
    for step in range(steps):
        for micro in order.micro_batches(step, 0):
            padded += max(lengths[i] for i in micro) * len(micro)
            real += sum(lengths[i] for i in micro)
    return padded - real


def test_every_record_once_per_epoch_and_deterministic():
    lengths = _lengths(203)
    order = DataOrder(203, 4, 1, 1, seed=3, lengths=lengths, window=8)
    seen = [i for step in range(order.steps_per_epoch) for m in order.micro_batches(step, 0) for i in m]
    assert len(seen) == 200 and len(set(seen)) == 200  # 3 records of the last incomplete batch dropped
    assert order.permutation(0) == DataOrder(203, 4, 1, 1, seed=3, lengths=lengths, window=8).permutation(0)
    assert sorted(order.permutation(1)) == list(range(203)) and order.permutation(1) != order.permutation(0)


def test_micro_batches_hold_similar_lengths_and_less_padding():
    lengths = _lengths(512)
    plain = DataOrder(512, 8, 1, 1, seed=0)
    grouped = DataOrder(512, 8, 1, 1, seed=0, lengths=lengths)
    # Within one window (all 64 batches here) each micro-batch spans at most one length band.
    for step in range(grouped.steps_per_epoch):
        (micro,) = grouped.micro_batches(step, 0)
        assert max(lengths[i] for i in micro) - min(lengths[i] for i in micro) < 80
    assert _padding(grouped, lengths, 64) < 0.2 * _padding(plain, lengths, 64)


def test_accumulation_and_world_size_see_the_same_pairs():
    lengths = _lengths(96)
    one = DataOrder(96, 2, 4, 1, seed=1, lengths=lengths, window=4)
    four = DataOrder(96, 2, 1, 4, seed=1, lengths=lengths, window=4)
    for step in range(one.steps_per_epoch):
        a = one.micro_batches(step, 0)
        b = [four.micro_batches(step, r)[0] for r in range(4)]
        assert a == b


def test_lengths_must_match_records():
    with pytest.raises(ValueError, match="3 lengths for 4 records"):
        DataOrder(4, 2, 1, 1, seed=0, lengths=(1, 2, 3))
