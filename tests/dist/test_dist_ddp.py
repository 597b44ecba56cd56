"""Two CPU processes (torchrun, gloo, DDP through accelerate) match one process with twice the
accumulation: same logged metrics, same final weights (a reward model's value head included); a 2-process
checkpoint resumes in 1 process and a 1-process one in 2."""

from __future__ import annotations

import pytest
import yaml
from dist_helpers import assert_same_metrics, assert_same_weights, metrics, run_train, write_config


@pytest.mark.parametrize("variant", ["full", "lora_precompute", "value_head"])
def test_two_processes_match_one_with_double_accumulation(tmp_path, tiny_llava_path, synth_pairs, variant):
    over = {"save_steps": 2}
    if variant == "lora_precompute":
        # LoRA (adapter-disabled reference) + reference log-probs precomputed before training.
        over.update(lora={"enabled": True, "r": 4, "alpha": 8, "dropout": 0.0}, precompute_ref=True,
                    freeze_vision_tower=True)
    elif variant == "value_head":
        # A reward model: the value head is applied outside the DDP-wrapped forward and still syncs.
        over.update(head="value", loss={"name": "bt"})
    else:
        over.update(freeze_vision_tower=False)
    cfg = write_config(tmp_path / "c.yaml", tiny_llava_path, synth_pairs, **over)
    two, one = tmp_path / "two", tmp_path / "one"
    out = run_train(cfg, [f"output_dir={two}", "gradient_accumulation_steps=1"], nproc=2)
    assert out.stdout.count("wrote ") == 1  # only the main process reports
    run_train(cfg, [f"output_dir={one}", "gradient_accumulation_steps=2"], nproc=1)

    assert_same_metrics(metrics(two), metrics(one))
    assert_same_weights(two / "final", one / "final")
    state = two / "checkpoint-2" / "accelerate"
    assert (two / "checkpoint-2" / "trainer_state.json").is_file()
    # accelerate's state: optimiser and scheduler once, the RNG of each rank
    assert sorted(p.name for p in state.iterdir()) == ["optimizer.bin", "random_states_0.pkl",
                                                        "random_states_1.pkl", "scheduler.bin"]
    # The packed forward (one model call per micro-batch) is the path under DDP too.
    written = yaml.safe_load((two / "config.yaml").read_text())
    assert written["world_size"] == 2 and written["scoring_backend"] == "packed"

    if variant == "full":
        # Resume the 2-process checkpoint in 1 process (accumulation 2 keeps the global batch).
        resumed = tmp_path / "resumed"
        run_train(cfg, [f"output_dir={resumed}", "gradient_accumulation_steps=2",
                        f"resume_from={two / 'checkpoint-2'}"], nproc=1)
        assert_same_weights(resumed / "final", one / "final")
        rows = metrics(resumed)
        assert [r["step"] for r in rows] == [3]
        assert_same_metrics(rows, metrics(one)[2:])
        # ... and the 1-process checkpoint resumes in 2 processes.
        back = tmp_path / "back"
        run_train(cfg, [f"output_dir={back}", "gradient_accumulation_steps=1",
                        f"resume_from={one / 'checkpoint-2'}"], nproc=2)
        assert_same_weights(back / "final", one / "final")
        assert_same_metrics(metrics(back), metrics(one)[2:])


def test_under_torchrun_the_language_model_runs_once_per_micro_batch(tmp_path, tiny_llava_path, synth_pairs):
    """Two DDP ranks with gradient checkpointing: the decoder runs once per micro-batch before the backward,
    on B rows of prompt + both answers (not 2B rows of prompt + answer)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    data, root = synth_pairs
    script = Path(__file__).with_name("ddp_forward_count.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           str(script), str(tiny_llava_path), str(data), str(root), str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=180)
    assert proc.returncode == 0, proc.stderr[-4000:]
    ranks = [json.loads((tmp_path / f"rank{i}.json").read_text()) for i in range(2)]
    assert sorted(r["rank"] for r in ranks) == [0, 1]
    for r in ranks:
        assert r["ddp"] == "DistributedDataParallel" and r["grad"]
        assert r["calls"] == 1 and r["shape"] == r["expected"]
