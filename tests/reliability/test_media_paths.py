"""Media paths cannot leave the data root: not with `..`, not as absolute paths, and not through a symlink
(to a file or a folder) that points outside it; a symlink that stays inside the root is fine. Each refusal
is a bad record naming the path (preference records, LLaVA rows, generate's prompts, the collator)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from mmalign.data.collate import load_image
from mmalign.data.llava_source import read_llava
from mmalign.data.reader import read_records
from mmalign.data.schema import RecordProblem
from mmalign.errors import DataError


@pytest.fixture
def world(tmp_path):
    """root/img/real.png, root/img/inside.png -> real.png, root/img/out.png -> ../../secret.png (outside),
    root/away -> a folder outside the root."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "img").mkdir(parents=True)
    outside.mkdir()
    Image.new("RGB", (8, 8), "red").save(root / "img" / "real.png")
    Image.new("RGB", (8, 8), "blue").save(tmp_path / "secret.png")
    Image.new("RGB", (8, 8), "blue").save(outside / "a.png")
    (root / "img" / "inside.png").symlink_to("real.png")
    (root / "img" / "out.png").symlink_to(tmp_path / "secret.png")
    (root / "away").symlink_to(outside, target_is_directory=True)
    return root


ESCAPES = ["img/out.png", "away/a.png", "../secret.png", "img/../../secret.png"]


def pair(image: str) -> str:
    return json.dumps({"id": image, "images": [image], "prompt": "<image>\nWhat colour?", "chosen": "Red.",
                       "rejected": "Blue."}) + "\n"


def test_preference_records(world):
    data = world / "pairs.jsonl"
    data.write_text("".join(pair(p) for p in ["img/real.png", "img/inside.png", *ESCAPES]))
    records, bad = read_records(data, world, "skip", collect_all=True)
    assert [r.id for r in records] == ["img/real.png", "img/inside.png"]
    assert bad.counts == {"path_escapes_root": len(ESCAPES)}
    assert all("escapes the root folder" in m for m in bad.messages)
    for rel in ESCAPES:
        with pytest.raises(RecordProblem, match="escapes the root"):
            load_image(world, rel)
    assert load_image(world, "img/inside.png").size == (8, 8)


def test_llava_rows(world):
    rows = [{"id": str(i), "image": p, "conversations": [{"from": "human", "value": "<image>\nColour?"},
                                                          {"from": "gpt", "value": "Red."}]}
            for i, p in enumerate(["img/inside.png", *ESCAPES])]
    data = world / "llava.json"
    data.write_text(json.dumps(rows))
    good, bad = read_llava(data, world)
    assert [r.image for r in good] == ["img/inside.png"]
    assert len(bad) == len(ESCAPES) and all("escapes the root" in b.message for b in bad)


def test_generate_prompts(world, tiny_llava_path):
    from mmalign.pairs.candidates import generate_candidates

    data = world / "prompts.jsonl"
    data.write_text(pair("img/out.png"))
    with pytest.raises(DataError, match="'img/out.png' escapes the root folder"):
        generate_candidates(data, [str(tiny_llava_path)], world / "out", n=1, max_new_tokens=2, progress=False)
