"""Helpers shared by test modules (tests/ is on pytest's pythonpath)."""

from mmalign.config import from_dict
from mmalign.train.config import TrainConfig


def tiny_config(tmp_path, tiny_llava_path, synth_pairs, **over):
    data, root = synth_pairs
    base = {"model": str(tiny_llava_path), "data": str(data), "root": str(root), "output_dir": str(tmp_path / "run"),
            "per_device_batch_size": 4, "max_steps": 3, "learning_rate": 1e-3, "max_length": 64,
            "progress": False, "seed": 1}
    base.update(over)
    return from_dict(TrainConfig, base)
