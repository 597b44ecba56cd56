"""The reader base's quick build: every stage runs, the join takes each half from its own pretraining."""

import json

import torch
from safetensors.torch import load_file

from mmalign.demo.reader_base import QUICK_READER, build_reader_base
from mmalign.models import load


def test_quick_reader_base_joins_the_text_decoder_and_the_vision_tower(tmp_path):
    out = tmp_path / "reader"
    final = build_reader_base(out, QUICK_READER)
    assert final == out / "sft" / "final" and (final / "config.json").is_file()
    for stage in ("decoder/two-image", "decoder/wide-1", "captions/text-lm", "align", "sft"):
        assert len((out / stage / "metrics.jsonl").read_text().splitlines()) == 2, stage
    decoder = load_file(out / "decoder" / "wide-1" / "final" / "model.safetensors")
    vision = load_file(out / "vision" / "model.safetensors")
    joined = load_file(out / "joined" / "model.safetensors")
    for key, value in joined.items():  # saved names: the decoder and lm_head live under "language_model."
        source = decoder if key.startswith("language_model.") else vision
        assert torch.equal(value, source[key]), key
    q = "language_model.model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(decoder[q], vision[q])
    # Captions: in text the answer repeats the prompt's words; for images it is the image's patch words.
    text = [json.loads(line) for line in (out / "captions" / "text.jsonl").read_text().splitlines()]
    caption = next(row for row in text if row["id"].startswith("cap-text"))
    assert caption["prompt"].split("\n")[0] + "." == caption["chosen"] and len(caption["chosen"].split()) == 16
    assert load(final).processor.image_processor.do_pad is True  # LLaVA-1.5's pad-to-square, at 64 px
