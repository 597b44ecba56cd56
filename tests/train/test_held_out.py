"""The held-out accuracy scores every held-out pair, whatever fields the training loss reads from records."""

from mmalign.config import from_dict
from mmalign.train.config import TrainConfig
from mmalign.train.trainer import train


def test_bt_margin_reward_model_scores_held_out_pairs_without_strengths(tmp_path):
    data = tmp_path / "pairs.jsonl"
    from mmalign.data.synth import write_text_pairs

    source = write_text_pairs(tmp_path / "src", seed=0, count=16)
    # bt_margin reads meta.preference_strength from the training records; the held-out ones have none.
    import json

    rows = [json.loads(line) for line in source.read_text().splitlines()]
    data.write_text("".join(json.dumps({**r, "meta": {**r.get("meta", {}), "preference_strength": 1.0}}) + "\n"
                            for r in rows))
    cfg = from_dict(TrainConfig, {
        "model": "tiny-llama", "data": str(data), "eval_data": str(source), "head": "value",
        "loss": {"name": "bt_margin"}, "output_dir": str(tmp_path / "run"), "max_steps": 1,
        "per_device_batch_size": 4, "max_length": 64, "progress": False, "learning_rate": 1e-3})
    result = train(cfg)
    assert result.eval["pairs"] == 16 and result.eval["skipped"] == 0
