"""The scoring backend is chosen once, with a reason, by one function used by the trainer and the dry run."""

from types import SimpleNamespace

import pytest
import yaml

from mmalign.errors import ConfigError
from mmalign.train.backend import choose_backend, packing_obstacle


def _text(**kw):
    return SimpleNamespace(**{"_attn_implementation": "sdpa", **kw})


def test_full_attention_families_get_the_packed_backend():
    for family in ("llava", "qwen2_vl", "text"):
        chosen = choose_backend("auto", family, _text())
        assert chosen.name == "packed" and family in chosen.reason


@pytest.mark.parametrize("text, family, words", [
    (_text(layer_types=["full_attention", "sliding_attention"]), "text", "sliding-window"),
    (_text(sliding_window=4096), "text", "sliding-window"),
    (_text(_attn_implementation="flash_attention_2"), "llava", "flash_attention_2"),
    (_text(), "llava_onevision", "no packed scoring"),
])
def test_configurations_that_cannot_pack_get_concatenated_with_the_reason(text, family, words):
    chosen = choose_backend("auto", family, text)
    assert chosen.name == "concatenated" and words in chosen.reason
    assert packing_obstacle(family, text) == chosen.reason
    with pytest.raises(ConfigError, match="packed is not possible"):
        choose_backend("packed", family, text)


def test_explicit_choices():
    assert choose_backend("concatenated", "llava", _text()).name == "concatenated"
    assert choose_backend("packed", "llava", _text(sliding_window=None)).name == "packed"
    with pytest.raises(ConfigError, match="scoring_backend"):
        choose_backend("fast", "llava", _text())


def test_training_records_the_backend_and_equals_the_concatenated_run(tmp_path, tiny_llava_path, synth_pairs):
    from mmalign.train.config import TrainConfig
    from mmalign.train.trainer import train

    data, root = synth_pairs
    runs = {}
    for backend in ("auto", "concatenated"):
        cfg = TrainConfig(model=str(tiny_llava_path), data=str(data), root=str(root), output_dir=str(tmp_path / backend),
                          max_steps=2, per_device_batch_size=2, progress=False, scoring_backend=backend,
                          gradient_checkpointing=True)
        train(cfg)
        written = yaml.safe_load((tmp_path / backend / "config.yaml").read_text())
        runs[backend] = [yaml.safe_load(line) for line in (tmp_path / backend / "metrics.jsonl").read_text().splitlines()]
        assert written["scoring_backend"] == ("packed" if backend == "auto" else "concatenated")
        assert written["scoring_backend_reason"]
    for a, b in zip(runs["auto"], runs["concatenated"]):
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-5)
