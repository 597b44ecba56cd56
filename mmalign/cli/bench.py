"""mmalign bench video|dpo|logps ..."""

from __future__ import annotations

import importlib
import sys

BENCHES = {
    "video": ("mmalign.cli.bench_video", "decoded + perturbed frames per second, decord vs PyAV"),
    "dpo": ("mmalign.cli.bench_dpo", "mmalign vs TRL DPOTrainer on the same tiny LLaVA"),
    "logps": ("mmalign.cli.bench_logps", "peak memory of the log-prob step, full log-softmax vs chunked"),
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in BENCHES:
        lines = "\n".join(f"  {k:<8}{v[1]}" for k, v in BENCHES.items())
        print(f"usage: mmalign bench <name> [options]\n\nbenchmarks:\n{lines}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    try:
        module = importlib.import_module(BENCHES[argv[0]][0])
    except ModuleNotFoundError:
        print(f"mmalign bench {argv[0]}: not available in this version", file=sys.stderr)
        return 2
    return int(module.main(argv[1:]) or 0)
