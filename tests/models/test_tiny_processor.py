"""The tiny LLaVA's image processor: LLaVA-1.5's pad-to-square keeps a wide collage's outer cells."""

from PIL import Image
from transformers import AutoProcessor

from mmalign.models.tiny import TinyLlavaSpec, build_tiny_llava


def _strip():
    """A 1x3 strip, 96 x 32: red, green and blue thirds (the layout of a three-image collage)."""
    img = Image.new("RGB", (96, 32))
    for i, colour in enumerate(((255, 0, 0), (0, 255, 0), (0, 0, 255))):
        img.paste(colour, (32 * i, 0, 32 * (i + 1), 32))
    return img


def _channel_means(pixels):
    return pixels[0].mean(dim=(1, 2))  # per RGB channel, normalised


def _spec(pad):
    return TinyLlavaSpec(hidden_size=32, intermediate_size=64, vision_hidden_size=32, num_heads=2, pad_to_square=pad)


def test_default_processor_crops_the_outer_cells_and_padding_keeps_them(tmp_path):
    cropped = AutoProcessor.from_pretrained(build_tiny_llava(tmp_path / "crop", _spec(False)))
    padded = AutoProcessor.from_pretrained(build_tiny_llava(tmp_path / "pad", _spec(True)))
    a = cropped.image_processor([_strip()], return_tensors="pt")["pixel_values"]
    b = padded.image_processor([_strip()], return_tensors="pt")["pixel_values"]
    assert a.shape == b.shape == (1, 3, 32, 32)
    # Centre crop: only the green middle third survives, red and blue channels sit at their minimum.
    red, green, blue = _channel_means(a)
    assert green > 1.5 and red < -1.0 and blue < -1.0
    # Padded: the strip fills the middle rows; its left third is red, its right third blue.
    row = b[0, :, 16]
    assert row[0, 2] > 1.5 and row[2, 2] < -1.0  # left edge red
    assert row[2, -3] > 1.5 and row[0, -3] < -1.0  # right edge blue
    assert abs(b[0, 0, 0, 0].item()) < 0.1  # the padding is the mean colour, ~0 after normalisation
