"""The demo's starting model: a tiny LLaVA whose decoder read references before it saw an image.

MIA-DPO starts from a LLaVA whose language model already follows "In Image2, ..." because it read text
full of references, and whose projector makes image tokens the language model can read. This recipe
gives the tiny model both, in LLaVA's order, and is what `scripts/reference_probe.py` measures
(docs/demo_findings.md, section 3, says what each stage bought):

1. Decoder pretraining on the synthetic world written as text, one word per vision patch
   (`data.synth.patch_text`): sequences of exactly two text images first, then 2-4 of them. The shape
   reference is only learnt in that order.
2. Vision pretraining of a 64 px tower with 16 px patches and LLaVA-1.5's pad-to-square processing, on
   scenes at full size and shrunk onto collage-like canvases (`vision.pretrain_vision_tower`).
3. Join: the text-trained decoder goes into the vision-pretrained LLaVA (`stages.join_decoder`).
4. Captions in text: the decoder learns to repeat a text image's words ("Describe the image.").
5. Projector alignment with the decoder frozen (LLaVA's stage 1) on image captions and single-image
   instructions: the projector learns image tokens the decoder copies as the right patch words.
6. SFT of the whole model on single-image instructions mixed with text records.

About 27 minutes on 2 CPU cores. The result ships in `assets/demo/reader-llava`; `mmalign demo
--rebuild-base` runs this recipe, and a rebuild matched the shipped weights byte for byte.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from .vision import pretrain_vision_tower

# Question kinds of the SFT data; a repeated kind is drawn more often: a yes/no answer depends on whether the
# named object matches the image, an interaction the tiny model only learns after a long plateau, and the
# extra examples shorten it.
SFT_KINDS = ("colour", "shape", "exists", "object", "exists", "object")
TWO_IMAGE_TEXT_SEED, TEXT_SEED, TEXT_CAPTION_SEED, IMAGE_CAPTION_SEED = 5, 0, 11, 12


@dataclass(frozen=True)
class ReaderRecipe:
    layers: int = 4
    image_size: int = 64
    patch_size: int = 16
    text_two_image_steps: int = 3000
    # Rounds on 2-4 image text, each restarting the learning-rate schedule (2,000 steps, then 1,500 more
    # while colour references were still improving).
    text_steps: tuple[int, ...] = (2000, 1500)
    text_rows: int = 160000
    vision_steps: int = 12000
    vision_min_scale: float = 0.3
    caption_text_rows: int = 12000
    caption_mixed_text_rows: int = 20000  # 2-4 image text records kept alongside, so references stay
    caption_text_steps: int = 1000
    caption_images: int = 16000
    caption_instructions: int = 16000
    align_steps: int = 1500
    sft_rows: int = 32768
    sft_text_rows: int = 10000
    sft_steps: int = 2000
    batch: int = 32
    seed: int = 0


QUICK_READER = ReaderRecipe(layers=2, text_two_image_steps=2, text_steps=(2,), text_rows=8, vision_steps=4,
                            caption_text_rows=4, caption_mixed_text_rows=4, caption_text_steps=2, caption_images=4,
                            caption_instructions=4, align_steps=2, sft_rows=16, sft_text_rows=8, sft_steps=2, batch=4)


def _shuffled(records: list[dict], rng: random.Random) -> list[dict]:
    rng.shuffle(records)
    return records


def build_reader_base(out: Path, recipe: ReaderRecipe = ReaderRecipe()) -> Path:
    """Build the model under `out` (decoder/, vision/, joined/, captions/, align/, sft/ and their data);
    returns the SFT model."""
    from ..data.synth.patch_text import (
        BACKGROUND_WORD,
        caption_text_record,
        write_caption_images,
        write_patch_text,
    )
    from ..data.synth.world import write_llava_instructions
    from ..io import read_jsonl, write_jsonl_atomic
    from ..models.tiny import TinyLlavaSpec, build_tiny_llava
    from ..train.sft_data import llava_to_records
    from .stages import join_decoder, sft_mix, train_stage

    out, r, words = Path(out), recipe, [BACKGROUND_WORD]
    # 1. The decoder reads text; the vision tower of its model is never used (text records carry no image).
    decoder = build_tiny_llava(out / "decoder" / "init", TinyLlavaSpec(num_layers=r.layers, seed=r.seed), words)
    two = write_patch_text(out / "text" / "two-image.jsonl", seed=TWO_IMAGE_TEXT_SEED,
                           count=r.text_two_image_steps * r.batch, max_extra=0)
    decoder = train_stage(out / "decoder" / "two-image", decoder, two, None, r.text_two_image_steps, r.batch,
                          max_length=320)
    wide = write_patch_text(out / "text" / "text.jsonl", seed=TEXT_SEED, count=r.text_rows)
    for i, steps in enumerate(r.text_steps):
        decoder = train_stage(out / "decoder" / f"wide-{i + 1}", decoder, wide, None, steps, r.batch,
                              max_length=320, warmup_steps=10 if i == 0 else 50)
    # 2-3. The vision tower learns the world's labels on its own; then the two halves are joined.
    spec = TinyLlavaSpec(num_layers=r.layers, image_size=r.image_size, patch_size=r.patch_size, pad_to_square=True,
                         seed=r.seed)
    init = build_tiny_llava(out / "init", spec, words)
    acc = pretrain_vision_tower(init, out / "vision", steps=r.vision_steps, batch=r.batch, lr=2e-3, seed=r.seed,
                                min_scale=r.vision_min_scale)
    print(f"vision tower: held-out shape accuracy {acc['shape']:.3f}, colour {acc['colour']:.3f}", flush=True)
    joined = join_decoder(out / "vision", decoder, out / "joined")
    # 4. Captions in text, mixed with references so they are kept.
    rng = random.Random(TEXT_CAPTION_SEED)
    captions = [caption_text_record(i, rng) for i in range(r.caption_text_rows)]
    captions = _shuffled(captions + read_jsonl(wide, r.caption_mixed_text_rows), rng)
    text = out / "captions" / "text.jsonl"
    write_jsonl_atomic(text, captions)
    reader = train_stage(out / "captions" / "text-lm", joined, text, None, r.caption_text_steps, r.batch,
                         max_length=320, warmup_steps=10)
    # 5. Align the projector (decoder frozen) on image captions and instructions.
    llava = write_llava_instructions(out / "sft-data", seed=r.seed, count=r.sft_rows, kinds=SFT_KINDS)
    instructions = llava_to_records(llava, llava.parent, llava.with_name("instructions.jsonl"), "error")
    rng = random.Random(IMAGE_CAPTION_SEED)
    align = write_caption_images(llava.parent, "cap", r.caption_images, rng)
    align = _shuffled(align + read_jsonl(instructions, r.caption_instructions), rng)
    align_data = out / "captions" / "align.jsonl"
    write_jsonl_atomic(align_data, align)
    aligned = train_stage(out / "align", reader, align_data, llava.parent, r.align_steps, r.batch,
                          freeze_language_model=True)
    # 6. SFT on single images mixed with text.
    mix = sft_mix(llava.with_name("mix.jsonl"), instructions, r.sft_text_rows, seed=r.seed)
    return train_stage(out / "sft", aligned, mix, llava.parent, r.sft_steps, r.batch, freeze_vision_tower=False)
