"""The collator on golden examples with one and three images."""

import json

import torch

from mmalign.data import read_records
from mmalign.data.collate import PreferenceCollator


def _record(n_images):
    content = [{"type": "image"}] * n_images + [{"type": "text", "text": "What colour is the circle?"}]
    return {"images": [f"i{k}.png" for k in range(n_images)],
            "prompt": [{"role": "user", "content": content}],
            "chosen": [{"role": "assistant", "content": [{"type": "text", "text": "Red."}]}],
            "rejected": [{"role": "assistant", "content": [{"type": "text", "text": "A blue square."}]}]}


def _ids(tok, words):
    return [tok.convert_tokens_to_ids(w) for w in words]


def test_golden_one_and_three_images(tmp_path, tiny_llava):
    from PIL import Image

    for k in range(3):
        Image.new("RGB", (40, 30), (50 * k, 0, 0)).save(tmp_path / f"i{k}.png")
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(_record(1)) + "\n" + json.dumps(_record(3)) + "\n")
    records, _ = read_records(path, tmp_path)
    proc, adapter = tiny_llava.processor, tiny_llava.adapter
    tok = proc.tokenizer
    batch = PreferenceCollator(proc, adapter, tmp_path)(records)

    per_image = 16  # 32 px / patch 8 = 4 x 4 tokens per image
    question = _ids(tok, ["what", "colour", "is", "the", "circle", "?"])
    head = _ids(tok, ["user", ":"])
    tail = _ids(tok, ["assistant", ":"])
    img = tok.image_token_id
    expected_one = head + [img] * per_image + question + tail
    expected_three = head + [img] * (3 * per_image) + question + tail
    width = len(expected_three)
    assert batch["prompt_input_ids"].shape == (2, width)
    # Left padding: the shorter prompt sits at the right end.
    pad = width - len(expected_one)
    assert batch["prompt_input_ids"][0, pad:].tolist() == expected_one
    assert batch["prompt_attention_mask"][0].tolist() == [0] * pad + [1] * len(expected_one)
    assert batch["prompt_input_ids"][1].tolist() == expected_three
    assert batch["pixel_values"].shape == (4, 3, 32, 32)  # every image once, in record order

    eos = tok.eos_token_id
    assert batch["chosen_input_ids"][0].tolist()[:3] == _ids(tok, ["red", "."]) + [eos]
    assert batch["rejected_input_ids"][0].tolist() == _ids(tok, ["a", "blue", "square", "."]) + [eos]
    assert batch["chosen_attention_mask"].sum(1).tolist() == [3, 3]

    spans = adapter.image_spans({"input_ids": batch["prompt_input_ids"]})
    assert [(s.start, s.end, s.grid_hw) for s in spans[0]] == [(pad + 2, pad + 2 + per_image, (4, 4))]
    assert [(s.start, s.end) for s in spans[1]] == [(2 + per_image * k, 2 + per_image * (k + 1)) for k in range(3)]
    assert torch.equal(batch["prompt_input_ids"][1, 2:2 + 3 * per_image], torch.full((3 * per_image,), img))
