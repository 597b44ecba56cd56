"""LLaVA-format reading (bad rows with their lines) and the build plan (formats, counts, distractors)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from PIL import Image

from mmalign.errors import DataError
from mmalign.pairs import assign_formats, normalise_proportions, parse_formats, plan_rows, read_llava


def _row(i, image="a.png", q="<image>\nWhat colour?", a="Red."):
    return {"id": f"r{i}", "image": image, "conversations": [{"from": "human", "value": q}, {"from": "gpt", "value": a}]}


@pytest.fixture
def root(tmp_path):
    for name in ("a.png", "b.png", "c.png"):
        Image.new("RGB", (8, 8)).save(tmp_path / name)
    return tmp_path


def test_bad_rows_are_reported_with_their_lines(root):
    rows = [_row(0), _row(1, image="missing.png"), {"id": "r2", "image": "b.png", "conversations": [
        {"from": "gpt", "value": "x"}]}, _row(3, q="What colour?"), _row(0, image="c.png"), _row(5, a=""),
        {"id": "r6"}, "text", _row(8, image="../a.png"), _row(9, image="c.png")]
    path = root / "llava.json"
    path.write_text(json.dumps(rows, indent=2))
    good, bad = read_llava(path, root)
    assert [r.id for r in good] == ["r0", "r9"]
    reasons = [b.reason for b in bad]
    assert reasons == ["missing_image", "no_human_turn", "no_image_tag", "duplicate_id", "no_answer", "no_image",
                       "not_an_object", "missing_image"]
    lines = path.read_text().splitlines()
    assert lines[bad[0].line - 1].strip() == "{" and '"r1"' in lines[bad[0].line]
    assert lines[bad[6].line - 1].strip().startswith('"text"')
    assert '"r9"' in lines[good[1].line]


def test_jsonl_and_malformed(root):
    path = root / "llava.jsonl"
    path.write_text(json.dumps(_row(0)) + "\n{not json\n" + json.dumps(_row(2, image="nope.png")) + "\n")
    good, bad = read_llava(path, root)
    assert [r.id for r in good] == ["r0"] and [(b.line, b.reason) for b in bad] == [(2, "malformed_json"),
                                                                                    (3, "missing_image")]
    broken = root / "broken.json"
    broken.write_text('[{"id": 1}, {oops}]')
    with pytest.raises(DataError, match="broken.json:1"):
        read_llava(broken, root)
    with pytest.raises(DataError, match="not found"):
        read_llava(root / "absent.json", root)


def test_formats_and_proportions():
    assert parse_formats("sequence, collage,inset") == ("sequence", "grid_collage", "pic_in_pic")
    assert parse_formats("pip,grid") == ("pic_in_pic", "grid_collage")
    with pytest.raises(ValueError):
        parse_formats("video")
    props = normalise_proportions(("sequence", "grid_collage", "pic_in_pic"))
    assert props == pytest.approx({"sequence": 0.522, "grid_collage": 0.322, "pic_in_pic": 0.156})
    assert normalise_proportions(("sequence", "pic_in_pic"), (3, 1)) == {"sequence": 0.75, "pic_in_pic": 0.25}
    with pytest.raises(ValueError):
        normalise_proportions(("sequence",), (1, 2))
    fmts = assign_formats(100, {"a": 0.5, "b": 0.3, "c": 0.2})
    assert Counter(fmts) == {"a": 50, "b": 30, "c": 20}
    for n in range(1, 101):  # every prefix is within one row of its share
        c = Counter(fmts[:n])
        assert all(abs(c[f] - s * n) < 1 for f, s in {"a": 0.5, "b": 0.3, "c": 0.2}.items())


def test_plan_counts_and_distractors(root):
    from mmalign.data.llava_source import SourceRow

    rows = [SourceRow(f"r{i}", f"img{i}.png", "<image>\nQ?", "A.", i) for i in range(40)]
    plans = plan_rows(rows, {"sequence": 0.5, "grid_collage": 0.3, "pic_in_pic": 0.2}, seed=3)
    assert plans == plan_rows(rows, {"sequence": 0.5, "grid_collage": 0.3, "pic_in_pic": 0.2}, seed=3)
    for p in plans:
        assert p.row.image not in p.distractors and len(set(p.distractors)) == len(p.distractors)
        assert len(p.distractors) == p.n_images - 1
        assert p.n_images in {"sequence": (2, 3, 4, 5), "grid_collage": (2, 3, 4, 6, 9), "pic_in_pic": (2,)}[p.format]
    few = plan_rows(rows[:3], {"grid_collage": 1.0}, seed=0)  # 2 other images: collages of 2 or 3
    assert all(p.n_images in (2, 3) for p in few)
    alone = plan_rows(rows[:1], {"sequence": 1.0}, seed=0)
    assert alone[0].n_images == 0
