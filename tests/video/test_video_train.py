"""Training on videos: online PaMi-VDPO (candidates made and scored in the trainer), offline from
`rejected_videos` (written by `mmalign build-data video`), the decoding backend in config.yaml."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from mmalign.cli.main import main as cli
from mmalign.train.config import load_train_config as load_config
from mmalign.train.step import PairForward
from mmalign.train.trainer import train
from mmalign.train.video_sampler import build_pair_sampler

FAST = ["synthetic_pairs=4", "per_device_batch_size=2", "max_steps=2", "progress=false", "video_frames=4"]


def _run(tmp_path, name, *extra, sampler=None):
    cfg = load_config("configs/tiny/vdpo_video.yaml", [f"output_dir={tmp_path / name}", *FAST, *extra])
    return cfg, train(cfg, pair_sampler=sampler)


def test_online_pami_vdpo_runs_and_records_backend(tmp_path):
    _, result = _run(tmp_path, "online")
    rows = [json.loads(x) for x in (result.output_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(np.isfinite(r["loss"]) for r in rows)
    resolved = yaml.safe_load((result.output_dir / "config.yaml").read_text())
    assert resolved["video_backend_used"] in {"decord", "pyav", "decord+pyav"}
    assert resolved["pair_sampler"]["name"] == "pami_vdpo"
    assert (result.final_dir / "adapter_config.json").is_file()


@pytest.mark.parametrize("aggregation", ["mean", "lse", "weighted", "max"])
def test_online_multi_instance_aggregations_train(tmp_path, aggregation):
    _, result = _run(tmp_path, aggregation, f"loss={{name: vdpo, beta: 0.5, aggregation: {aggregation}}}",
                     "max_steps=1")
    assert result.steps == 1 and result.nonfinite_skipped == 0


def test_online_candidates_are_deterministic_under_the_seed(tmp_path):
    histories = []
    for name in ("a", "b"):
        cfg = load_config("configs/tiny/vdpo_video.yaml", [f"output_dir={tmp_path / name}", *FAST])
        from mmalign.losses import build_loss
        from mmalign.models.load import load

        loaded = load(str(tmp_path / "a" / "base-model")) if name == "b" else None
        if loaded is None:
            train(cfg)  # builds the base model and data
            loaded = load(str(tmp_path / "a" / "base-model"))
        forward = PairForward(loaded.adapter, loaded.processor.tokenizer.pad_token_id, "packed")
        sampler = build_pair_sampler(cfg.pair_sampler, loss=build_loss("vdpo", aggregation="select"),
                                     processor=loaded.processor, forward=forward, total_steps=2, seed=cfg.seed)
        train(load_config("configs/tiny/vdpo_video.yaml", [f"output_dir={tmp_path / ('s' + name)}", *FAST]),
              pair_sampler=sampler)
        histories.append(sampler.history)
    a, b = histories
    assert [h["names"] for h in a] == [h["names"] for h in b]
    assert [h["picked"] for h in a] == [h["picked"] for h in b]
    assert np.allclose(np.stack([h["distances"] for h in a]), np.stack([h["distances"] for h in b]))


def test_offline_training_from_rejected_videos(tmp_path, capsys):
    from mmalign.data.synth.video import write_video_dataset

    src = write_video_dataset(tmp_path / "src", seed=3, count=4)
    (tmp_path / "src" / "vid" / "broken.mp4").write_bytes(b"junk" * 100)
    with open(src, "a") as fh:  # a bad video is skipped and counted
        fh.write(json.dumps({"id": "bad", "videos": ["vid/broken.mp4"], "prompt": "<video>\nWhich way?",
                             "chosen": "Up.", "rejected": "Down."}) + "\n")
    out = tmp_path / "built"
    assert cli(["build-data", "video", "--data", str(src), "--out", str(out), "--frames", "4"]) == 0
    assert "bad_media 1" in capsys.readouterr().out
    recs = [json.loads(x) for x in (out / "video_pairs.jsonl").read_text().splitlines()]
    assert len(recs) == 4 and all(len(r["rejected_videos"]) == 1 for r in recs)
    assert all((out / r["rejected_videos"][0]).is_file() for r in recs)
    # rerun reuses the finished records
    assert cli(["build-data", "video", "--data", str(src), "--out", str(out), "--frames", "4"]) == 0
    assert "reused 4" in capsys.readouterr().out
    cfg = load_config("configs/tiny/vdpo_video.yaml", [
        f"output_dir={tmp_path / 'offline'}", f"data={out / 'video_pairs.jsonl'}", "pair_sampler={}", *FAST])
    result = train(cfg)
    assert result.steps == 2
    assert "video_backend_used" in yaml.safe_load((result.output_dir / "config.yaml").read_text())


def test_bad_video_is_a_bad_record(tmp_path):
    from mmalign.data.synth.video import write_video_dataset
    from mmalign.errors import DataError

    src = write_video_dataset(tmp_path / "src", seed=4, count=2)
    lines = src.read_text().splitlines()
    rec = json.loads(lines[0])
    rec["videos"] = ["vid/missing.mp4"]
    src.write_text("\n".join([json.dumps(rec)] + lines[1:]) + "\n")
    cfg = load_config("configs/tiny/vdpo_video.yaml", [f"output_dir={tmp_path / 'bad'}", f"data={src}", *FAST])
    with pytest.raises(DataError, match="missing.mp4"):
        train(cfg)
