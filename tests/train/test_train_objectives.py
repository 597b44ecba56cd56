"""`mmalign train` runs every registered objective on the tiny LLaVA from a config, transforms included."""

import json

import pytest
from helpers import tiny_config

from mmalign.cli.main import main as cli
from mmalign.losses import available_losses
from mmalign.train.trainer import train

TEST_ONLY = {"test_nan_second_call", "test_always_nan"}


@pytest.fixture(scope="module")
def rich_pairs(tmp_path_factory):
    """Synthetic pairs with every optional field an objective may read."""
    from mmalign.data.synth import write_preference_pairs

    root = tmp_path_factory.mktemp("rich")
    path = write_preference_pairs(root, seed=11, count=8)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for i, row in enumerate(rows):
        other = rows[(i + 1) % len(rows)]
        row["rejected_images"] = other["images"]  # the same answer under another image (mDPO / VDPO)
        row["rejected_prompt"] = other["prompt"]  # another instruction (DOVE)
        row["scores"] = {"chosen": 8.0, "rejected": 3.0 + i % 3, "chosen_win_prob": 0.7, "rejected_win_prob": 0.3,
                         "reward_models": [[1.0, 0.5 - i * 0.1], [0.8, 0.4]]}
        row["factuality"] = {"chosen": 0, "rejected": i % 2}
        row["meta"]["preference_strength"] = 0.5 - 0.1 * i
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path, root


@pytest.mark.parametrize("name", sorted(set(available_losses()) - TEST_ONLY))
def test_every_objective_trains(tmp_path, tiny_llava_path, rich_pairs, name):
    result = train(tiny_config(tmp_path, tiny_llava_path, rich_pairs, loss={"name": name}, max_steps=2,
                               per_device_batch_size=4, max_length=128))
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(r["loss"] == r["loss"] for r in rows)  # finite, not NaN
    assert result.final_dir.is_dir()


def test_objective_hyperparameter_from_config(tmp_path, tiny_llava_path, rich_pairs):
    cfg = tmp_path / "ipo.yaml"
    data, root = rich_pairs
    cfg.write_text(f"model: {tiny_llava_path}\ndata: {data}\nroot: {root}\noutput_dir: {tmp_path}/o\n"
                   "loss: {name: ipo, beta: 0.1}\nmax_steps: 1\nper_device_batch_size: 4\nprogress: false\n")
    assert cli(["train", str(cfg)]) == 0


def test_unknown_hyperparameter_lists_valid(tmp_path, tiny_llava_path, rich_pairs, capsys):
    cfg = tmp_path / "bad.yaml"
    data, root = rich_pairs
    cfg.write_text(f"model: {tiny_llava_path}\ndata: {data}\nroot: {root}\noutput_dir: {tmp_path}/o\n"
                   "loss: {name: ipo, bta: 0.1}\n")
    assert cli(["train", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert "bta" in err and "beta" in err and "Traceback" not in err


def test_missing_field_for_objective_names_line(tmp_path, tiny_llava_path, synth_pairs, capsys):
    from mmalign.errors import DataError

    with pytest.raises(DataError, match=r"pairs.jsonl:1: .*factuality.chosen"):
        train(tiny_config(tmp_path, tiny_llava_path, synth_pairs, loss={"name": "fdpo"}, max_steps=1))


def test_transforms_from_config(tmp_path, tiny_llava_path, rich_pairs):
    data, root = rich_pairs
    before = data.read_text()
    train(tiny_config(tmp_path, tiny_llava_path, rich_pairs, max_steps=1, per_device_batch_size=4, max_length=512,
                      transforms=[{"name": "reward_augment", "mode": "user"}]))
    out = (tmp_path / "run" / "data" / "transformed.jsonl").read_text().splitlines()
    assert len(out) == 16  # each pair doubled
    assert data.read_text() == before  # the user's file is untouched
