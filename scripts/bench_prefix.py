"""Micro-benchmark: the concatenated vs the packed scoring backend, forward+backward on a tiny LLaVA.

Default shape: hidden 256, 4 layers, 4 images of 64 px per sample (256 image tokens), 16-token answers,
batch 8. Rows:
  policy fwd+bwd (full fine-tuning)      concatenated vs packed
  DPO step, LoRA (policy fwd+bwd + reference fwd)  concatenated vs packed (frozen image features cached)

    python scripts/bench_prefix.py [--reps 5] [--batch 8] [--images 4] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import torch
from PIL import Image

from mmalign.data.collate import PreferenceCollator
from mmalign.data.schema import PreferenceRecord
from mmalign.data.synth import vocabulary
from mmalign.losses import build_loss
from mmalign.models import load
from mmalign.models.lora import apply_lora
from mmalign.models.tiny import TinyLlavaSpec, build_tiny_llava
from mmalign.train.reference import AdapterDisabled
from mmalign.train.step import PairForward, compute_loss


def make_records(root: Path, n: int, images: int, answer_words: int) -> list[PreferenceRecord]:
    words = [w for w in vocabulary() if w.isalpha()]
    recs = []
    for i in range(n):
        paths = []
        for j in range(images):
            rel = f"{i}-{j}.png"
            Image.new("RGB", (64, 64), ((37 * i) % 255, (91 * j) % 255, 120)).save(root / rel)
            paths.append(rel)

        def answer(shift, i=i):
            return [{"role": "assistant", "content": [{"type": "text", "text": " ".join(
                words[(i + shift + k) % len(words)] for k in range(answer_words))}]}]

        prompt = [{"role": "user", "content": [{"type": "image"}] * images + [
            {"type": "text", "text": " ".join(words[: 3 + i % 5])}]}]
        recs.append(PreferenceRecord(f"b{i}", prompt, answer(0), answer(7), images=paths))
    return recs


def timed(variants: dict, reps: int) -> dict[str, tuple[float, float]]:
    """(min, median) seconds per variant; variants are interleaved so that load on a shared machine hits
    them alike."""
    for fn in variants.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(reps):
        for name, fn in variants.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: (min(t), statistics.median(t)) for name, t in times.items()}


def report(title: str, results: dict[str, tuple[float, float]], batch: int) -> None:
    base = next(iter(results.values()))[0]
    for name, (best, med) in results.items():
        print(f"{title}, {name}: min {best:.3f} s, median {med:.3f} s, {batch / best:.1f} pairs/s, "
              f"speedup {base / best:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--answer-words", type=int, default=14, help="about 16 tokens with the end-of-turn marks")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    tmp = Path(tempfile.mkdtemp(prefix="bench-prefix-"))
    spec = TinyLlavaSpec(hidden_size=256, num_layers=4, num_heads=4, intermediate_size=512, vision_hidden_size=64,
                         image_size=64, patch_size=8)
    path = build_tiny_llava(tmp / "model", spec)
    (tmp / "media").mkdir()
    loaded = load(path)
    adapter = loaded.adapter
    collator = PreferenceCollator(loaded.processor, adapter, tmp / "media")
    batch = collator(make_records(tmp / "media", args.batch, args.images, args.answer_words))
    pad = collator.tokenizer.pad_token_id
    print(f"batch {args.batch}, prompt {batch['prompt_input_ids'].shape[1]} tokens "
          f"({args.images} images), answers {batch['chosen_input_ids'].shape[1]} tokens, "
          f"torch threads {torch.get_num_threads()}")

    model = loaded.model.train()

    concatenated, packed = PairForward(adapter, pad, "concatenated"), PairForward(adapter, pad, "packed")

    def fwd_bwd(forward):
        def run():
            out = forward(model, batch)
            (out.chosen - out.rejected[:, 0]).sum().backward()
            model.zero_grad(set_to_none=True)
        return run

    with torch.no_grad():
        a, b = concatenated(model, batch), packed(model, batch)
    diff = max(float((a.chosen - b.chosen).abs().max()), float((a.rejected - b.rejected).abs().max()))
    print(f"max |logp difference| concatenated vs packed: {diff:.1e}; load average {os.getloadavg()[0]:.1f}")
    report("full fine-tuning, policy fwd+bwd", timed({"concatenated": fwd_bwd(concatenated),
                                                      "packed": fwd_bwd(packed)}, args.reps), args.batch)

    policy = apply_lora(model, adapter, SimpleNamespace(r=8, alpha=16, dropout=0.0, target_modules=[]))
    reference, loss = AdapterDisabled(), build_loss("sigmoid", beta=0.1)

    def step(forward):
        def run():
            out, _ = compute_loss(policy, reference, loss, forward, batch)
            out.losses.mean().backward()
            policy.zero_grad(set_to_none=True)
        return run

    rows = {"concatenated": step(concatenated), "packed (frozen image features cached)": step(packed)}
    report("LoRA DPO step (policy fwd+bwd + reference fwd)", timed(rows, args.reps), args.batch)
    print(f"load average {os.getloadavg()[0]:.1f} (shared machine: compare rows of one run only)")

if __name__ == "__main__":
    main()
