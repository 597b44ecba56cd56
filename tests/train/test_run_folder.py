"""One run per output folder; resuming refuses a checkpoint from another config; old checkpoints get a clear
message; nothing in a checkpoint is unpickled."""

import json
from pathlib import Path

import pytest
from helpers import tiny_config

from mmalign.errors import ConfigError, MMAlignError
from mmalign.train.trainer import train

REPO = Path(__file__).resolve().parents[2]


def test_a_folder_holding_a_run_is_refused_unless_resumed_or_overwritten(tmp_path, tiny_llava_path, synth_pairs):
    cfg = tiny_config(tmp_path, tiny_llava_path, synth_pairs, max_steps=2, save_steps=1)
    train(cfg)
    with pytest.raises(ConfigError, match="holds another run .*resume_from=latest.*overwrite=true"):
        train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, max_steps=2, lora={"enabled": True}))
    assert (tmp_path / "run" / "final" / "model.safetensors").is_file()  # the full-weight final/ is untouched

    again = tiny_config(tmp_path, tiny_llava_path, synth_pairs, max_steps=2, overwrite=True,
                        lora={"enabled": True, "r": 4, "alpha": 8})
    train(again)
    run = tmp_path / "run"
    assert (run / "final" / "adapter_config.json").is_file() and not (run / "final" / "model.safetensors").exists()
    assert not (run / "checkpoint-1").exists()  # the old run's checkpoints went with it
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2]


def test_resume_refuses_a_checkpoint_of_another_config(tmp_path, tiny_llava_path, synth_pairs):
    common = {"max_steps": 3, "save_steps": 1}
    train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, **common))
    other = tiny_config(tmp_path, tiny_llava_path, synth_pairs, resume_from="latest", learning_rate=0.5,
                        loss={"name": "ipo", "beta": 0.1}, **common)
    with pytest.raises(ConfigError) as err:
        train(other)
    message = str(err.value)
    assert "checkpoint-2" in message and "learning_rate (0.001 -> 0.5)" in message and "loss (" in message
    # Resume-safe keys (reporting, loading, the split of the same global batch) may change.
    safe = tiny_config(tmp_path, tiny_llava_path, synth_pairs, resume_from=str(tmp_path / "run" / "checkpoint-1"),
                       logging_steps=2, num_workers=1, per_device_batch_size=2, gradient_accumulation_steps=2,
                       **common)
    assert train(safe).steps == 3


def test_a_checkpoint_from_before_accelerate_states_gets_a_clear_message(tmp_path, tiny_llava_path, synth_pairs):
    old = tmp_path / "run" / "checkpoint-2"
    old.mkdir(parents=True)
    (old / "trainer_state.pt").write_bytes(b"not read")
    cfg = tiny_config(tmp_path, tiny_llava_path, synth_pairs, resume_from="latest")
    with pytest.raises(MMAlignError, match="earlier mmalign .*model="):
        train(cfg)


def test_nothing_is_unpickled_with_weights_only_false():
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "mmalign").rglob("*.py")
                 if "weights_only=False" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_interrupted_says_how_to_resume(tmp_path, tiny_llava_path, synth_pairs):
    from mmalign.cli.train import interrupted_message

    cfg = tiny_config(tmp_path, tiny_llava_path, synth_pairs, max_steps=2, save_steps=1)
    assert "before the first checkpoint" in interrupted_message(cfg, "c.yaml", ["max_steps=2"])
    train(cfg)
    message = interrupted_message(cfg, "c.yaml", ["max_steps=2", "overwrite=true"])
    assert "checkpoint-1" in message and "mmalign train c.yaml max_steps=2 resume_from=latest" in message


def test_a_folder_in_use_by_another_run_is_refused_and_freed_when_it_ends(tmp_path, tiny_llava_path, synth_pairs):
    from mmalign.train.folder_lock import FolderLock

    cfg = tiny_config(tmp_path, tiny_llava_path, synth_pairs, max_steps=1)
    held = FolderLock(tmp_path / "run")  # another run, still writing
    with pytest.raises(ConfigError, match=f"in use by another mmalign run \\(pid {__import__('os').getpid()}\\)"):
        train(cfg)
    held.release()  # it ended (a killed process releases it the same way: the OS drops the lock)
    assert train(cfg).steps == 1
