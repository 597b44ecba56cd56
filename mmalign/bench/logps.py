"""Peak memory of the log-prob step with a large output head: the full float32 log-softmax against the
chunked label log-probs (`train/label_logps.py`), each in a fresh process.

The step is what the trainer does at the scored positions: hidden states [M, H] -> output head [V, H]
-> logits [M, V] -> one log-prob per label -> backward into the hidden states and the head. Each variant
runs in its own Python process (`python -m mmalign.bench.logps VARIANT ...`), so its peak resident memory
(VmHWM, reset just before the step) above the memory it had before the step (CPU, Linux), or its peak allocated memory (CUDA), is its own; the
processes also write their log-probs and gradients so the parent can check the variants agree.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

QWEN_VOCAB = 151_936
VARIANTS = ("full_log_softmax", "chunked_logsumexp")


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak_rss() -> None:
    """Start the peak resident memory (VmHWM) afresh, so imports and setup do not count (Linux)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def run_variant(variant: str, positions: int, hidden: int, vocab: int, dtype: str, device: str, out: Path) -> dict:
    """One variant in this process: the step's peak memory above what the inputs already held."""
    from ..train.label_logps import full_logsoftmax_logps, label_logps

    torch.manual_seed(0)
    dt = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
    h = (torch.randn(positions, hidden) * 0.5).to(device=device, dtype=dt).requires_grad_(True)
    head = torch.nn.Linear(hidden, vocab, bias=False).to(device=device, dtype=dt)
    labels = torch.randint(0, vocab, (positions,), device=device)
    rows = torch.arange(positions, device=device)
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated() / 2**20
    else:
        _reset_peak_rss()
        before = _status_mib("VmRSS")
    logits = head(h)
    if variant == "full_log_softmax":
        logps = full_logsoftmax_logps(logits, rows, labels)
    else:  # as the trainer's scoring call uses it
        logps = label_logps(logits, rows, labels, overwrite_logits=True)
    logps.sum().backward()
    if cuda:
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20 - before
    else:
        peak = _status_mib("VmHWM") - before
    torch.save({"logps": logps.detach().float().cpu(), "grad_hidden": h.grad.float().cpu(),
                "grad_head": head.weight.grad.float().cpu()}, out)
    return {"variant": variant, "peak_mib": round(peak, 1)}


def run_logps_bench(positions: int = 1024, hidden: int = 256, vocab: int = QWEN_VOCAB, dtype: str = "fp32",
                    device: str = "cpu") -> dict:
    """Both variants, each in a fresh process; their peaks, the saving and the largest differences."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for variant in VARIANTS:
            out = Path(tmp) / f"{variant}.pt"
            proc = subprocess.run([sys.executable, "-m", "mmalign.bench.logps", variant, str(positions), str(hidden),
                                   str(vocab), dtype, device, str(out)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"{variant} failed:\n{proc.stderr[-2000:]}")
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            results[variant] = torch.load(out)
        full, chunked = (results[v] for v in VARIANTS)
    diffs = {k: float((full[k] - chunked[k]).abs().max()) for k in full}
    peak = {r["variant"]: r["peak_mib"] for r in rows}
    logits_mib = positions * vocab * (4 if dtype == "fp32" else 2) / 2**20
    return {"config": {"positions": positions, "hidden": hidden, "vocab": vocab, "dtype": dtype, "device": device,
                       "logits_mib": round(logits_mib, 1)},
            "peak_mib": peak, "saving": round(1 - peak["chunked_logsumexp"] / peak["full_log_softmax"], 3),
            "max_abs_diff": diffs}


def format_table(result: dict) -> str:
    c = result["config"]
    lines = [f"log-prob step: {c['positions']} scored positions, hidden {c['hidden']}, vocabulary {c['vocab']:,}, "
             f"{c['dtype']} on {c['device']} (logits alone: {c['logits_mib']:.0f} MiB)",
             f"{'variant':<20} {'peak MiB':>10}"]
    lines += [f"{k:<20} {v:>10.0f}" for k, v in result["peak_mib"].items()]
    d = result["max_abs_diff"]
    lines.append(f"chunked peak is {100 * result['saving']:.0f}% lower; max |difference|: log-probs {d['logps']:.1e}, "
                 f"hidden grad {d['grad_hidden']:.1e}, head grad {d['grad_head']:.1e}")
    return "\n".join(lines)


if __name__ == "__main__":
    name, m, h, v, dt, dev, path = sys.argv[1:8]
    print(json.dumps(run_variant(name, int(m), int(h), int(v), dt, dev, Path(path))))
