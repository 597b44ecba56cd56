"""A reward model trained through the one trainer (`head: value`, loss bt) logs its metrics, saves a folder
`load_reward` reads, and that judge reproduces the held-out accuracy and margin the trainer computed in
memory; `mmalign score` and `mmalign eval synth-reward` take it as `--judge reward-model:model=PATH`."""

import json

import pytest
from helpers import tiny_config

from mmalign.cli.main import main
from mmalign.data.candidates import message_text
from mmalign.data.reader import read_records
from mmalign.errors import MMAlignError
from mmalign.judge import build_judge, load_reward, parse_judge_spec


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_llava_path, synth_pairs):
    from mmalign.train.trainer import train

    out = tmp_path_factory.mktemp("rm")
    cfg = tiny_config(out, tiny_llava_path, synth_pairs, head="value", loss={"name": "bt"}, max_steps=2,
                      eval_data="synthetic", synthetic_eval_pairs=8, learning_rate=1e-3)
    return train(cfg)


def _candidates(records):
    return [{"id": r.id, "prompt": r.prompt, "images": r.images,
             "candidates": [{"text": message_text(r.chosen)}, {"text": message_text(r.rejected)}]} for r in records]


def test_a_value_head_run_logs_reward_metrics_and_saves_backbone_plus_head(run):
    rows = [json.loads(line) for line in (run.output_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    for row in rows:
        assert {"loss", "rewards/accuracies", "rewards/margins", "scores/mean", "scores/std"} <= row.keys()
        assert not any(k.startswith("logps/") for k in row)
        assert row["scores/std"] >= 0 and 0 <= row["rewards/accuracies"] <= 1
    saved = {p.name for p in run.final_dir.iterdir()}
    assert {"config.json", "model.safetensors", "value_head.safetensors", "value_head.json"} <= saved
    assert json.loads((run.final_dir / "value_head.json").read_text())["hidden_size"] == 32
    assert "head: value" in (run.output_dir / "config.yaml").read_text()


def test_load_reward_reproduces_the_trainers_held_out_accuracy_and_margin(run):
    heldout = run.output_dir / "data" / "heldout.jsonl"
    records, _ = read_records(heldout, heldout.parent, "skip")
    scores = load_reward(run.final_dir, root=heldout.parent).score(_candidates(records))
    margins = [chosen - rejected for chosen, rejected in scores]
    assert run.eval["pairs"] == len(margins) == 8
    assert run.eval["reward_accuracy"] == sum(m > 0 for m in margins) / len(margins)
    assert run.eval["reward_margin"] == pytest.approx(sum(margins) / len(margins), rel=1e-4, abs=1e-8)


def test_mmalign_score_and_eval_take_the_reward_model_judge(run, tmp_path):
    heldout = run.output_dir / "data" / "heldout.jsonl"
    records, _ = read_records(heldout, heldout.parent, "skip")
    cands = tmp_path / "candidates.jsonl"
    cands.write_text("".join(json.dumps(c) + "\n" for c in _candidates(records[:3])))
    spec = f"reward-model:model={run.final_dir},batch_size=1"
    assert main(["score", "--judge", spec, "--data", str(cands), "--root", str(heldout.parent),
                 "--out", str(tmp_path / "scored"), "--device", "cpu"]) == 0
    scored = [json.loads(line) for line in (tmp_path / "scored" / "scored.jsonl").read_text().splitlines()]
    want = load_reward(run.final_dir, root=heldout.parent).score(_candidates(records[:3]))
    got = [c["scores"]["reward-model-final"] for r in scored for c in r["candidates"]]
    assert got == pytest.approx([s for row in want for s in row], abs=1e-6)
    suite, out = tmp_path / "suite", tmp_path / "eval"
    assert main(["eval", "synth-reward", "--make-data", str(suite), "--count", "4", "--out", str(out),
                 "--judge", spec, "--device", "cpu"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["overall"]["n"] == 4 and metrics["inputs"]["judge_name"] == "reward-model-final"
    lines = [json.loads(line) for line in (out / "judgments.jsonl").read_text().splitlines()]
    assert all(isinstance(line["chosen"], float) and isinstance(line["rejected"], float) for line in lines)


def test_a_folder_that_is_no_reward_model_is_a_clear_error(tmp_path, tiny_llava_path):
    assert parse_judge_spec("reward-model:model=runs/rm/final").name == "reward-model-final"
    with pytest.raises(MMAlignError, match="no such folder"):
        build_judge(f"reward-model:model={tmp_path / 'missing'}")
    with pytest.raises(MMAlignError, match="neither value_head.json nor a sequence-classification"):
        load_reward(tiny_llava_path)
    assert main(["score", "--judge", f"reward-model:model={tiny_llava_path}", "--data", str(tmp_path / "c.jsonl"),
                 "--out", str(tmp_path / "o")]) == 1
