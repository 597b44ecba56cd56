"""Shared pieces for the speed-path tests: small models, records with 1 and 3 images, gradient capture."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import torch
from PIL import Image

from mmalign.data.collate import PreferenceCollator
from mmalign.data.schema import PreferenceRecord
from mmalign.models import load


def build_family(family: str, path: Path) -> Path:
    if family == "llava":
        from mmalign.models.tiny import TinyLlavaSpec, build_tiny_llava

        spec = TinyLlavaSpec(hidden_size=32, intermediate_size=64, vision_hidden_size=32, num_heads=2)
        return build_tiny_llava(path, spec)
    if family == "qwen":
        from mmalign.models.tiny_qwen import build_tiny_qwen2_vl

        return build_tiny_qwen2_vl(path, hidden_size=32)
    from mmalign.models.tiny_text import build_tiny_llama

    return build_tiny_llama(path)


def _msg(role, items):
    return [{"role": role, "content": items}]


def _text(t):
    return {"type": "text", "text": t}


def write_images(root: Path, n: int = 4) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        # Different sizes: Qwen2-VL gets different grids (M-RoPE positions), LLaVA resizes.
        Image.new("RGB", (32 + 16 * (i % 2), 32), (60 * i, 30, 200 - 40 * i)).save(root / f"{i}.png")


def say(text: str) -> list[dict]:
    return _msg("assistant", [_text(text)])


def write_media(root: Path) -> Path:
    """The test images and two 16-frame clips (a red circle moving left, a blue square moving down)."""
    from mmalign.data.synth.video import VideoScene, write_video

    write_images(root)
    write_video(root / "left.mp4", VideoScene("circle", "red", "left"))
    write_video(root / "down.mp4", VideoScene("square", "blue", "down"))
    return root


def family_paths(base: Path, families=("llava", "qwen", "text")) -> dict[str, Path]:
    """{"root": media folder, family: tiny model folder} under `base`."""
    return {"root": write_media(base / "media"), **{f: build_family(f, base / f) for f in families}}


def video_records() -> list[PreferenceRecord]:
    """Two video pairs, each with the other clip as its altered (rejected) video."""
    ask = _msg("user", [{"type": "video"}, _text("which way does it move")])
    return [PreferenceRecord("v0", ask, say("left"), say("down"), videos=["left.mp4"], rejected_videos=["down.mp4"]),
            PreferenceRecord("v1", ask, say("it moves down"), say("up"), videos=["down.mp4"],
                             rejected_videos=["left.mp4"])]


def records(vision: bool = True) -> list[PreferenceRecord]:
    """Three pairs: 1 image + long prompt, 4 images + short prompt, 1 image + medium prompt."""
    img = [{"type": "image"}] if vision else []
    rows = [
        (img, "what colour is the circle in the picture", "red", "blue circle is there", ["0.png"]),
        (img * 4, "which", "the second one is red", "first", ["1.png", "2.png", "3.png", "0.png"]),
        (img, "how many shapes", "two shapes", "three", ["2.png"]),
    ]
    out = []
    for i, (media, q, c, r, images) in enumerate(rows):
        out.append(PreferenceRecord(f"r{i}", _msg("user", media + [_text(q)]), _msg("assistant", [_text(c)]),
                                    _msg("assistant", [_text(r)]), images=images if vision else []))
    return out


def write_jsonl(path: Path, recs: list[PreferenceRecord]) -> Path:
    rows = [{"id": r.id, "images": r.images, "prompt": r.prompt, "chosen": r.chosen, "rejected": r.rejected}
            for r in recs]
    path.write_text("".join(json.dumps(x) + "\n" for x in rows))
    return path


def setup(family_path: Path, root: Path, mode: str):
    """(model, adapter, collator, pad_id); mode: 'lora', 'full' (everything trainable) or 'frozen-vision'."""
    loaded = load(family_path)
    model, adapter = loaded.model, loaded.adapter
    torch.manual_seed(0)
    if mode == "lora":
        from types import SimpleNamespace

        from mmalign.models.lora import apply_lora

        model = apply_lora(model, adapter, SimpleNamespace(r=4, alpha=8, dropout=0.0, target_modules=[]))
        # Non-zero B so the adapters change the function (peft starts B at zero).
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.data.normal_(0, 0.05)
    elif mode == "frozen-vision":
        roots = tuple(adapter.vision_prefixes) + tuple(adapter.projector_prefixes)
        for name, p in model.named_parameters():
            if name.startswith((*roots, "model.visual")):
                p.requires_grad_(False)
    model.train()
    collator = PreferenceCollator(loaded.processor, adapter, root)
    return model, adapter, collator, collator.tokenizer.pad_token_id


def grads(model) -> dict[str, torch.Tensor]:
    out = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return out


def assert_grads_close(a: dict, b: dict, rtol=1e-3, atol=1e-5) -> None:
    assert a.keys() == b.keys()
    for name, value in a.items():
        torch.testing.assert_close(value, b[name], rtol=rtol, atol=atol, msg=lambda m, n=name: f"{n}: {m}")


def frozen_copy(model):
    ref = copy.deepcopy(model).eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref


def pair_scores(model, adapter, batch, pad, backend, request=None):
    """(AnswerScores, AnswerLogps) of a collated batch through one backend."""
    from mmalign.train.scored_tokens import ScoreRequest
    from mmalign.train.step import PairForward

    forward = PairForward(adapter, pad, backend)
    sb, layout = forward.prepare(model, batch)
    scores = forward.scores(model, sb, request or ScoreRequest())
    from mmalign.train.pair_loss import pair_logps

    return scores, pair_logps(scores, layout, sb)


def _objective(pairs):
    """A scalar that weighs every answer differently, so every answer's gradient counts in the check."""
    k = pairs.rejected.shape[1]
    weights = torch.arange(1, k + 1, dtype=torch.float32) / k
    return pairs.chosen.sum() - (pairs.rejected * weights).sum()


def assert_packed_equals_concatenated(model, adapter, batch, pad, atol=1e-5):
    """Packed log-probs, token counts and gradients equal the concatenated layout's; returns the packed
    pair log-probs."""
    _, want = pair_scores(model, adapter, batch, pad, "concatenated")
    _objective(want).backward()
    g_want = grads(model)
    _, got = pair_scores(model, adapter, batch, pad, "packed")
    _objective(got).backward()
    for side in ("chosen", "rejected", "chosen_lengths", "rejected_lengths"):
        torch.testing.assert_close(getattr(got, side), getattr(want, side), rtol=0, atol=atol)
    assert_grads_close(grads(model), g_want, rtol=1e-4, atol=atol)
    return got


def loss_plain_and_cached(model, reference, loss, adapter, batch, pad, towers, cache_key):
    """compute_loss through the concatenated backend, then the packed one with the frozen vision cached
    (`cache_key` must be the cache it makes); each as (losses, policy logps, grads, vision-tower calls)."""
    from mmalign.train.features import FEATURES_KEY, TOWER_KEY
    from mmalign.train.step import PairForward, compute_loss

    other = TOWER_KEY if cache_key == FEATURES_KEY else FEATURES_KEY
    calls = []
    hooks = [t.register_forward_hook(lambda *a: calls.append(1)) for t in towers]

    def run(backend):
        calls.clear()
        forward = PairForward(adapter, pad, backend)
        sb, _ = forward.prepare(model, batch)
        cache = sb.vision_cache or {}
        assert (cache_key in cache) == (backend == "packed") and other not in cache
        calls.clear()
        out, pol = compute_loss(model, reference, loss, forward, batch)
        out.losses.mean().backward()
        return out.losses.detach(), pol, grads(model), len(calls)

    try:
        return run("concatenated"), run("packed")
    finally:
        for h in hooks:
            h.remove()
