"""Peak memory of the attention probe vs. output_attentions=True (eager) on one multi-image forward.

    python scripts/bench_probe_memory.py [--images 4] [--layers 8] [--heads 8] [--hidden 256] [--device cpu|cuda]

Builds a LLaVA-shaped random model (576 tokens per image, as LLaVA-1.5) and runs, on the same inputs,
(a) a plain forward (sdpa), (b) the probe (sdpa + one layer's answer rows), (c) a forward with
output_attentions=True under eager attention (what the paper's code does). On CUDA it reports
torch.cuda.max_memory_allocated above the loaded model; on CPU each mode runs in a fresh process and
reports the rise of peak RSS over the RSS before the forward.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

MODES = ("plain", "probe", "output_attentions")


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_mode(args) -> dict:
    import random

    import torch

    from mmalign.data.synth import draw_scene, sample_scene
    from mmalign.models import load
    from mmalign.select import AttentionProbe

    loaded = load(args.model_path, device=args.device)
    if args.mode == "output_attentions":
        loaded.model.set_attn_implementation("eager")
    rng = random.Random(0)
    images = [draw_scene(sample_scene(rng), px=64) for _ in range(args.images)]
    prompt = "".join(f"Image{i + 1}:<image>\n" for i in range(args.images)) + "In Image1, what colour is it?"
    answer = loaded.adapter.tokenizer(" ".join(["red circle"] * (args.answer_tokens // 2)),
                                      add_special_tokens=False)["input_ids"]
    probe = AttentionProbe(loaded.model, loaded.processor, loaded.adapter)
    inputs, rows = probe.build_inputs([prompt], [images], [answer])
    inputs = {k: v.to(args.device) if isinstance(v, torch.Tensor) else v for k, v in inputs.items()}
    cuda = args.device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = _rss_mb()
    with torch.no_grad():
        if args.mode == "plain":
            loaded.model(**inputs, use_cache=False)
        elif args.mode == "probe":
            probe.measure_inputs(inputs, rows)
        else:
            out = loaded.model(**inputs, use_cache=False, output_attentions=True)
            del out
    if cuda:
        torch.cuda.synchronize()
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    return {"mode": args.mode, "seq_len": int(inputs["input_ids"].shape[1]), "answer_rows": len(rows[0]),
            "peak_mb": round(peak, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--answer-tokens", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--mode", choices=MODES, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--model-path", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args)))
        return 0
    from mmalign.models.tiny import TinyLlavaSpec, build_tiny_llava

    with tempfile.TemporaryDirectory() as tmp:
        spec = TinyLlavaSpec(hidden_size=args.hidden, num_layers=args.layers, num_heads=args.heads,
                             intermediate_size=2 * args.hidden, image_size=336, patch_size=14)
        path = build_tiny_llava(Path(tmp) / "model", spec)
        results = []
        for mode in MODES:
            cmd = [sys.executable, __file__, "--mode", mode, "--model-path", str(path), "--device", args.device,
                   "--images", str(args.images), "--answer-tokens", str(args.answer_tokens)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            results.append(json.loads(out))
    n = results[0]["seq_len"]
    theory = args.layers * args.heads * n * n * 4 / 2**20
    print(f"device {args.device}; {args.layers} layers x {args.heads} heads, sequence {n} tokens "
          f"({args.images} images x 576), {results[0]['answer_rows']} answer rows")
    for r in results:
        print(f"  {r['mode']:<18} peak +{r['peak_mb']:>9.1f} MiB")
    print(f"  (all layers' fp32 attention matrices alone: {theory:.1f} MiB; the probe keeps "
          f"{args.heads * results[0]['answer_rows'] * n * 4 / 2**20:.2f} MiB of one layer's rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
