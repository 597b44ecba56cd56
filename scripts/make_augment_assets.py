"""Draw one picture of each augmentation format from the synthetic world into assets/augment/.

    python scripts/make_augment_assets.py [--out assets/augment]

Small cells keep the PNGs small; the library defaults are cell=448, margin=40.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from PIL import Image, ImageDraw

from mmalign.augment import corrupt, grid_collage, pic_in_pic, sequence
from mmalign.data.synth import ask, draw_scene, sample_scene


def scenes(seed: int, n: int, px: int) -> tuple[list[Image.Image], str]:
    """n drawn scenes and a question about the first (the target)."""
    rng = random.Random(seed)
    drawn = [sample_scene(rng) for _ in range(n)]
    return [draw_scene(s, px=px) for s in drawn], ask(drawn[0], rng).text


def sequence_strip(images, labels, gap: int = 8, strip: int = 16) -> Image.Image:
    """The sequence format is several images; show them side by side with their prompt labels."""
    w = sum(im.width for im in images) + gap * (len(images) - 1)
    h = max(im.height for im in images) + strip
    sheet = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    x = 0
    for im, label in zip(images, labels):
        sheet.paste(im, (x, strip))
        draw.text((x + 2, 2), label, fill=(0, 0, 0))
        x += im.width + gap
    return sheet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("assets/augment"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    written = {}

    imgs, question = scenes(1, 4, 96)
    seq = sequence(imgs[0], imgs[1:], question, seed=0, target_index=2)
    labels = [f"Image{i + 1}" + (" (target)" if i == seq.target_index else "") for i in range(len(seq.images))]
    written["sequence.png"] = (sequence_strip(seq.images, labels), seq.prompt)

    imgs, question = scenes(2, 4, 128)
    grid4 = grid_collage(imgs[0], imgs[1:], question, seed=0, target_index=1, cell=128, margin=16)
    written["grid_collage_4.png"] = (grid4.images[0], grid4.prompt)

    imgs, question = scenes(3, 9, 96)
    grid9 = grid_collage(imgs[0], imgs[1:], question, seed=0, target_index=4, cell=96, margin=14)
    written["grid_collage_9.png"] = (grid9.images[0], grid9.prompt)

    imgs, question = scenes(4, 2, 64)
    grid2 = grid_collage(imgs[0], imgs[1:], question, seed=0, target_index=0, cell=64, margin=12)
    noisy = corrupt(grid2, seed=0).images[0]
    written["grid_collage_2_noisy.png"] = (noisy, grid2.prompt + "  [std 225 on the target cell]")

    (target, background), question = scenes(5, 2, 160)
    pip = pic_in_pic(target, background, question, seed=0)
    # Synthetic scenes share one dark background, so outline the inset (region.box) to make it visible;
    # the library itself draws no border.
    shown = pip.images[0].copy()
    ImageDraw.Draw(shown).rectangle(pip.region.box.as_tuple(), outline=(255, 255, 255))
    written["pic_in_pic.png"] = (shown, pip.prompt + "  [inset outlined for display]")
    (target, background), question = scenes(5, 2, 96)
    small = pic_in_pic(target, background, question, seed=0)
    written["pic_in_pic_noisy.png"] = (corrupt(small, seed=0).images[0], small.prompt + "  [std 49 on the whole image]")

    total = 0
    for name, (image, prompt) in written.items():
        path = args.out / name
        image.save(path, optimize=True)
        total += path.stat().st_size
        print(f"{path} {image.size} {path.stat().st_size // 1024} KB  prompt: {prompt!r}")
    print(f"total {total // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
