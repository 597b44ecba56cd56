"""Vision pretraining for the demo's models: LLaVA starts from a pretrained CLIP; here the tiny CLIP tower
learns the synthetic world's shape and colour labels (linear heads on mean-pooled patch features, dropped
afterwards), optionally on scenes shrunk onto collage-like canvases.

Used by `reader_base` (the demo's starting model) and by `scripts/video_experiment.py` (`fit_label_heads`).
The first demo model, `assets/demo/sft-llava`, was this pretraining followed by `configs/tiny/sft_llava.yaml`
(the commands are in that config's header).
"""

from __future__ import annotations

import random
from pathlib import Path

import torch
from PIL import Image

from ..data.synth.scenes import BACKGROUND, COLOURS, SHAPES, Scene, draw_scene, sample_scene


def fit_label_heads(encoder: torch.nn.Module, heads: torch.nn.ModuleDict, draw, pool, *, steps: int, batch: int,
                    lr: float, held_out: int, log_every: int = 0) -> dict[str, float]:
    """Train `encoder` and the linear `heads` together (summed cross-entropy) on `steps` fresh batches,
    then return each head's accuracy on `held_out` fresh samples. `draw(n)` -> (*inputs, {head: labels});
    `pool(*inputs)` -> [n, width] features. The vision pretraining of the image demo and of the video
    experiment (scripts/video_experiment.py)."""
    optimizer = torch.optim.AdamW([*encoder.parameters(), *heads.parameters()], lr=lr)
    encoder.train()
    for step in range(1, steps + 1):
        *inputs, labels = draw(batch)
        feats = pool(*inputs)
        loss = sum(torch.nn.functional.cross_entropy(heads[k](feats), labels[k]) for k in heads)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if log_every and step % log_every == 0:
            print(f"vision pretraining step {step}/{steps}: loss {loss.item():.3f}", flush=True)
    encoder.eval()
    *inputs, labels = draw(held_out)
    with torch.no_grad():
        feats = pool(*inputs)
        return {k: (heads[k](feats).argmax(-1) == labels[k]).float().mean().item() for k in heads}


# Canvas colours a shrunk scene is pasted on: the scenes' own, a collage's white, LLaVA's padding grey.
CANVASES = (BACKGROUND, (255, 255, 255), (122, 116, 104))


def shrunk_scene(scene: Scene, px: int, min_scale: float, rng: random.Random) -> Image.Image:
    """`scene` drawn at a random scale in [min_scale, 1] of `px` and pasted at a random place on a px x px
    canvas of a random colour from CANVASES: the object sizes and surroundings of collage cells and insets."""
    if min_scale >= 1.0:
        return draw_scene(scene, px)
    side = max(4, round(px * rng.uniform(min_scale, 1.0)))
    canvas = Image.new("RGB", (px, px), rng.choice(CANVASES))
    canvas.paste(draw_scene(scene, side), (rng.randint(0, px - side), rng.randint(0, px - side)))
    return canvas


def pretrain_vision_tower(model_dir: Path, out_dir: Path, *, steps: int, batch: int, lr: float,
                          seed: int = 0, log_every: int = 500, min_scale: float = 1.0) -> dict[str, float]:
    """Train the vision tower of the LLaVA in `model_dir` to classify the synthetic scenes' shape and
    colour; write the model (only the tower changed) and processor to `out_dir`. Returns the held-out
    accuracies {"shape": ..., "colour": ...} on 512 fresh scenes. `min_scale` < 1 also shows scenes shrunk
    (see `shrunk_scene`), for towers that must read collage cells and insets."""
    from transformers import AutoProcessor, LlavaForConditionalGeneration

    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration.from_pretrained(model_dir)
    processor = AutoProcessor.from_pretrained(model_dir)
    tower = model.model.vision_tower
    width, px = tower.config.hidden_size, tower.config.image_size
    colours = sorted(COLOURS)
    heads = torch.nn.ModuleDict({"shape": torch.nn.Linear(width, len(SHAPES)),
                                 "colour": torch.nn.Linear(width, len(colours))})
    rng = random.Random(seed)

    def draw(n: int):
        scenes = [sample_scene(rng) for _ in range(n)]
        images = [shrunk_scene(s, px, min_scale, rng) for s in scenes]
        pixels = processor.image_processor(images, return_tensors="pt")["pixel_values"]
        labels = {"shape": torch.tensor([SHAPES.index(s.shape) for s in scenes]),
                  "colour": torch.tensor([colours.index(s.colour) for s in scenes])}
        return pixels, labels

    def pooled(pixels):  # patch features without the class token, as LLaVA's "default" strategy feeds them
        return tower(pixel_values=pixels).last_hidden_state[:, 1:].mean(1)

    acc = fit_label_heads(tower, heads, draw, pooled, steps=steps, batch=batch, lr=lr, held_out=512,
                          log_every=log_every)
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    return acc

