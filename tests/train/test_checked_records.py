"""Records are checked once (the processor over every prompt), cached with the data's fingerprint and read back
by later runs and by the other ranks; a problem on any rank stops every rank with the same message."""

import json
from types import SimpleNamespace

import pytest
from helpers import tiny_config

from mmalign.errors import ConfigError, DataError
from mmalign.train import ranks
from mmalign.train.trainer import train


def test_a_second_run_reads_the_check_from_the_cache(tmp_path, tiny_llava_path, synth_pairs, monkeypatch):
    from mmalign.data.collate import PreferenceCollator

    calls = []
    real = PreferenceCollator.check_length
    monkeypatch.setattr(PreferenceCollator, "check_length", lambda self, rec: calls.append(1) or real(self, rec))
    first = tiny_config(tmp_path, tiny_llava_path, synth_pairs, max_steps=1, group_by_length=True)
    train(first)
    checked = len(calls)
    assert checked == 16  # every record once
    caches = list((tmp_path / "run" / "data").glob("checked-*.json"))
    assert len(caches) == 1 and len(json.loads(caches[0].read_text())["tokens"]) == 16
    train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, max_steps=1, group_by_length=True, overwrite=True))
    assert len(calls) == checked  # the cache answered
    # Another max_length is another check.
    train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, max_steps=1, max_length=60, overwrite=True))
    assert len(calls) == 2 * checked


def test_skipped_records_stay_skipped_when_read_from_the_cache(tmp_path, tiny_llava_path, synth_pairs, capsys):
    over = {"max_steps": 1, "max_length": 31, "on_bad_record": "skip", "per_device_batch_size": 1}  # 7 of 16 too long
    train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, **over))
    first = capsys.readouterr().out
    train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, overwrite=True, **over))
    second = capsys.readouterr().out
    line = [s for s in first.splitlines() if "skipped" in s]
    assert line and "too_long" in line[0] and line[0] in second


class FakeRanks(SimpleNamespace):
    """Two ranks seen from one: what the other rank's collective would bring."""

    def __init__(self, main, other_problem=None):
        super().__init__(num_processes=2, is_main_process=main, device="cpu")
        self.other_problem = other_problem

    def reduce(self, tensor, op):
        return tensor + float(self.other_problem is not None)


def test_main_first_carries_the_main_process_error_to_every_rank(monkeypatch):
    shared = {}

    def broadcast(objs):  # the main process's value reaches the others
        if "value" in shared:
            objs[0] = shared["value"]
        else:
            shared["value"] = objs[0]

    monkeypatch.setattr(ranks, "broadcast_object_list", broadcast)

    def work():
        raise ConfigError("data.jsonl:3: bad")

    with pytest.raises(ConfigError, match="data.jsonl:3: bad"):
        ranks.main_first(FakeRanks(main=True), work)
    ran = []
    with pytest.raises(ConfigError, match="data.jsonl:3: bad"):  # the other rank raises, without running work
        ranks.main_first(FakeRanks(main=False), lambda: ran.append(1))
    assert ran == []


def test_a_problem_on_another_rank_stops_this_one_with_its_message(monkeypatch):
    monkeypatch.setattr(ranks, "gather_object", lambda objs: [None, "data.jsonl:7: cannot read image"])
    with pytest.raises(DataError, match="data.jsonl:7: cannot read image"):
        ranks.stop_together(FakeRanks(main=True, other_problem="x"), None)
    ranks.stop_together(FakeRanks(main=True), None)  # nobody has one: go on
