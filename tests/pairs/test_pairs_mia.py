"""`mmalign build-data mia` end to end on synthetic LLaVA data: output, proportions, bad rows, resume, training."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from mmalign.cli.build_data import main
from mmalign.data.reader import read_records
from mmalign.data.synth import write_llava_instructions
from mmalign.pairs import assign_formats, normalise_proportions

ARGS = ["--cell", "64", "--margin", "8", "--max-new-tokens", "6", "--batch-size", "4", "--no-progress", "--seed", "2"]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp("llava-src")
    path = write_llava_instructions(root, seed=4, count=16)
    rows = json.loads(path.read_text())
    rows[2]["image"] = "missing.png"
    rows[6]["conversations"][0]["value"] = rows[6]["conversations"][0]["value"].replace("<image>\n", "")
    rows[9]["conversations"] = [{"from": "gpt", "value": "orphan"}]
    path.write_text(json.dumps(rows, indent=2))
    return path, root


def _run(source, model, out, *extra):
    path, root = source
    return main(["mia", "--data", str(path), "--root", str(root), "--model", str(model), "--out", str(out),
                 *ARGS, *extra])


@pytest.fixture(scope="module")
def built(source, tiny_llava_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("mia-out")
    assert _run(source, tiny_llava_path, out) == 0
    return out


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_build_writes_pairs_images_and_summary(built, source, capsys):
    pairs = _lines(built / "pairs.jsonl")
    summary = json.loads((built / "summary.json").read_text())
    assert summary["processed"] == 13 and summary["pairs"] == len(pairs) > 0
    assert summary["pairs"] + sum(summary["dropped"].values()) == 13
    assert summary["bad_rows"] == {"missing_image": 1, "no_image_tag": 1, "no_human_turn": 1}
    text = source[0].read_text().splitlines()
    for bad in summary["bad_row_lines"]:
        assert text[bad["line"] - 1].strip() == "{"
    assert len({p["id"] for p in pairs}) == len(pairs)
    for rec in pairs:
        meta = rec["meta"]
        assert meta["format"] in ("sequence", "grid_collage", "pic_in_pic")
        assert set(meta) >= {"n_images", "target_index", "attention_ratio", "threshold", "ppl", "layer"}
        assert meta["attention_ratio"] <= meta["threshold"] and meta["ppl"] > 1.1
        assert len(rec["images"]) == (meta["n_images"] if meta["format"] == "sequence" else 1)
        assert all((built / p).is_file() and p.startswith("images/") for p in rec["images"])
        assert rec["chosen"][0]["content"][0]["text"] != rec["rejected"][0]["content"][0]["text"]
    records, bad = read_records(built / "pairs.jsonl", built, "error")
    assert len(records) == len(pairs) and bad.total == 0


def test_format_proportions_of_a_build(built):
    summary = json.loads((built / "summary.json").read_text())
    props = normalise_proportions(("sequence", "grid_collage", "pic_in_pic"))
    assert summary["processed_per_format"] == dict(Counter(assign_formats(13, props)))
    assert summary["processed_per_format"] == {"sequence": 7, "grid_collage": 4, "pic_in_pic": 2}
    progress = _lines(built / "progress.jsonl")
    assert Counter(p["format"] for p in progress) == Counter(summary["processed_per_format"])


def test_custom_formats_and_proportions(source, tiny_llava_path, tmp_path):
    assert _run(source, tiny_llava_path, tmp_path, "--formats", "collage,inset", "--proportions", "1,1",
                "--limit", "6") == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["processed_per_format"] == {"grid_collage": 3, "pic_in_pic": 3}


def test_resume_after_interruption(source, tiny_llava_path, built, tmp_path, monkeypatch):
    from mmalign import models

    real, calls = models.generate, []

    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(models, "generate", dying)
    with pytest.raises(KeyboardInterrupt):
        _run(source, tiny_llava_path, tmp_path)
    monkeypatch.setattr(models, "generate", real)
    partial = _lines(tmp_path / "progress.jsonl")
    assert 0 < len(partial) < 13
    with open(tmp_path / "pairs.jsonl", "a") as fh:  # a torn last line, as if killed mid-write
        fh.write('{"id": "torn", "ima')
    assert _run(source, tiny_llava_path, tmp_path) == 0
    pairs, full = _lines(tmp_path / "pairs.jsonl"), _lines(built / "pairs.jsonl")
    assert [p["id"] for p in pairs] == [p["id"] for p in full]
    assert [p["rejected"] for p in pairs] == [p["rejected"] for p in full]
    assert len(_lines(tmp_path / "progress.jsonl")) == 13
    summary, ref = (json.loads((d / "summary.json").read_text()) for d in (tmp_path, built))
    assert summary["pairs_per_format"] == ref["pairs_per_format"] and summary["dropped"] == ref["dropped"]
    assert _run(source, tiny_llava_path, tmp_path) == 0  # nothing left: no new lines
    assert len(_lines(tmp_path / "pairs.jsonl")) == len(full)


def test_output_trains(built, tiny_llava_path, tmp_path):
    from helpers import tiny_config

    from mmalign.train.trainer import train

    cfg = tiny_config(tmp_path, tiny_llava_path, (built / "pairs.jsonl", built), max_steps=2, max_length=512,
                      per_device_batch_size=2)
    train(cfg)
    assert (tmp_path / "run" / "final").is_dir()
    assert len((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) >= 1


def test_bad_flags(source, tiny_llava_path, tmp_path):
    from mmalign.errors import MMAlignError

    with pytest.raises(MMAlignError, match="proportions"):
        _run(source, tiny_llava_path, tmp_path, "--formats", "sequence", "--proportions", "1,2")
    with pytest.raises(MMAlignError, match="unknown format"):
        _run(source, tiny_llava_path, tmp_path, "--formats", "video")
