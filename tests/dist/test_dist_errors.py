"""Under torchrun, a bad record found by the main process's check stops both ranks with its file:line
message (none left waiting in a collective)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from dist_helpers import write_config


def test_a_bad_record_stops_every_rank_with_the_same_message(tmp_path, tiny_llava_path, synth_pairs):
    data, root = synth_pairs
    copy = tmp_path / "media"
    shutil.copytree(root, copy)
    lines = data.read_text().splitlines()
    (copy / "pairs.jsonl").write_text("\n".join(lines) + "\n")
    first_image = next(copy.rglob("*.png"))
    first_image.write_bytes(b"not a png")
    cfg = write_config(tmp_path / "c.yaml", tiny_llava_path, (copy / "pairs.jsonl", copy))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "mmalign.cli.main", "train", str(cfg), f"output_dir={tmp_path / 'out'}"],
                          capture_output=True, text=True, env=env, timeout=180, check=False)
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if "pairs.jsonl:" in line and first_image.name in line]
    assert len(errors) == 2, proc.stderr[-3000:]  # one per rank, the same message
    assert errors[0].split("error: ")[-1] == errors[1].split("error: ")[-1]
    # No rank printed a traceback of ours (torchrun's own ChildFailedError report is the launcher's).
    assert "mmalign/train" not in proc.stderr and "mmalign/cli" not in proc.stderr
