"""Micro-batches come from a DataLoader over the data order: worker processes prepare the next batches while
the current step computes, and give the same batches in the same order as collating in-process."""

import re
import time

import torch
from helpers import tiny_config

from mmalign.train.loader import BadBatch, CollateMicroBatch, StepBatches, micro_batch_loader
from mmalign.train.order import DataOrder


class SlowCollate:
    """Collates integer 'records' slowly, stamping when each batch was ready."""

    def __call__(self, items):
        time.sleep(0.2)
        return {"items": torch.tensor(items), "ready": time.monotonic()}


def test_sampler_yields_each_steps_micro_batches_from_the_start_step():
    order = DataOrder(16, per_device=2, accumulation=2, world=2, seed=0)
    sampler = StepBatches(order, rank=1, start=1, stop=3)
    assert list(sampler) == [mb for step in (1, 2) for mb in order.micro_batches(step, 1)]
    assert len(sampler) == 4


def test_workers_prepare_batches_while_the_step_runs_in_the_same_order():
    order = DataOrder(24, per_device=2, accumulation=1, world=1, seed=3)
    records = list(range(24))
    inline = [b["items"].tolist() for b in micro_batch_loader(records, SlowCollate(), StepBatches(order, 0, 0, 6))]
    got, waited = [], []
    loader = micro_batch_loader(records, SlowCollate(), StepBatches(order, 0, 0, 6), num_workers=2, prefetch_factor=2)
    for batch in loader:
        waited.append(time.monotonic() - batch["ready"])
        got.append(batch["items"].tolist())
        time.sleep(0.3)  # the "step": longer than one collation
    assert got == inline
    # After the first batches, each one was ready well before the loop asked for it: collated during the step.
    assert min(waited[2:]) > 0.1, waited


def test_real_collator_batches_are_identical_with_workers(tmp_path, tiny_llava_path, synth_pairs):
    from mmalign.data.collate import PreferenceCollator
    from mmalign.data.reader import read_records
    from mmalign.models.load import load

    data, root = synth_pairs
    loaded = load(tiny_llava_path)
    records, _ = read_records(data, root)
    collate = CollateMicroBatch(PreferenceCollator(loaded.processor, loaded.adapter, root, max_length=64))
    order = DataOrder(len(records), per_device=4, accumulation=1, world=1, seed=1)
    runs = [list(micro_batch_loader(records, collate, StepBatches(order, 0, 0, 3), num_workers=n)) for n in (0, 2)]
    assert len(runs[0]) == len(runs[1]) == 3
    for a, b in zip(*runs):
        assert a.keys() == b.keys()
        for k in a:
            if isinstance(a[k], torch.Tensor):
                assert torch.equal(a[k], b[k]), k
            else:
                assert a[k] == b[k], k


def test_a_record_that_fails_to_collate_is_named():
    from mmalign.data.schema import RecordProblem

    class FailsOnThird:
        def __call__(self, recs):
            if any(r == 3 for r in recs):
                raise RecordProblem("bad_media", "cannot read image 'x.png'")
            return {"n": len(recs)}

    class Rec(int):
        @property
        def source(self):
            return f"data.jsonl:{int(self) + 1}"

    out = CollateMicroBatch(FailsOnThird())([Rec(2), Rec(3)])
    assert out == BadBatch("data.jsonl:4: cannot read image 'x.png'")


def test_a_record_gone_bad_mid_epoch_follows_on_bad_record(tmp_path, tiny_llava_path, synth_pairs, capsys):
    """A media file replaced by garbage after the start-up check: `error` stops the run naming the record,
    `skip` trains on without it and says which one it left out."""
    import json
    import shutil

    import pytest

    from mmalign.errors import DataError
    from mmalign.train import run_setup
    from mmalign.train.trainer import train

    data, root = synth_pairs
    media = tmp_path / "media"
    shutil.copytree(root, media)
    first = json.loads(data.read_text().splitlines()[0])
    image = media / first["images"][0]
    real_setup = run_setup.setup_run

    def setup_then_break(cfg, sampler=None):  # the check passes, then the file goes bad
        run = real_setup(cfg, sampler)
        image.write_bytes(b"not an image any more")
        return run

    from mmalign.train import trainer

    original = image.read_bytes()
    for policy in ("error", "skip"):
        image.write_bytes(original)
        trainer.setup_run = setup_then_break
        try:
            cfg = tiny_config(tmp_path / policy, tiny_llava_path, (data, media), on_bad_record=policy,
                              per_device_batch_size=8, max_steps=2)
            if policy == "error":
                with pytest.raises(DataError, match=r"pairs.jsonl:1: .*cannot"):
                    train(cfg)
            else:
                assert train(cfg).steps == 2
                assert re.search(r"step \d: skipped \S+pairs.jsonl:1: cannot", capsys.readouterr().out)
        finally:
            trainer.setup_run = real_setup


def test_training_with_workers_gives_the_same_weights(tmp_path, tiny_llava_path, synth_pairs):
    from test_train_resume import assert_same_weights

    from mmalign.train.trainer import train

    runs = [train(tiny_config(tmp_path / str(n), tiny_llava_path, synth_pairs, num_workers=n, max_steps=2))
            for n in (0, 2)]
    assert_same_weights(runs[0].final_dir, runs[1].final_dir, atol=0)
