"""scripts/reference_probe.py --quick end to end: every stage runs and the results add up."""

from __future__ import annotations

import json

import yaml
from helpers import run_quick_script


def test_quick_probe_writes_results(tmp_path):
    out = tmp_path / "probe"
    run_quick_script("reference_probe.py", out, timeout=180)
    res = json.loads((out / "results.json").read_text())
    r = res["recipe"]
    assert set(res["models"]) == {"base", "capacity", "mia_dpo"}
    for m in res["models"].values():
        assert 0.0 <= m["synth-pope"] <= 100.0 and 0.0 <= m["synth-multi"] <= 100.0
        assert sum(m["multi_outcomes"].values()) == r["multi_questions"]  # every question counted once
    assert set(res["text_accuracy"]) <= {"colour", "shape", "exists"}
    # The open-question pairs are exactly the ones DPO trained on; the yes/no ones are only counted.
    pairs = out / f"pairs-{r['source_rows']}"
    open_pairs = (pairs / "open.jsonl").read_text().splitlines()
    built = (pairs / "pairs.jsonl").read_text().splitlines()
    assert res["pairs"].get("open", 0) == len(open_pairs) and sum(res["pairs"].values()) == len(built)
    # Alignment trained the projector only, on image captions and instructions; the text stages saw text only.
    align = yaml.safe_load((out / "align.yaml").read_text())
    assert align["freeze_language_model"] is True
    aligned = [json.loads(line) for line in (out / "captions" / "align.jsonl").read_text().splitlines()]
    assert {row["id"].startswith("cap-img") for row in aligned} == {True, False}
    assert all(len(row["images"]) == 1 for row in aligned)
    for name in ("text/two-image.jsonl", "text/text.jsonl", "captions/text.jsonl"):
        text = [json.loads(line) for line in (out / name).read_text().splitlines()]
        assert text and all("images" not in row for row in text), name
    # DPO trained on those pairs plus the single-image anchor rows, whose chosen and rejected answers agree.
    trained = [json.loads(line) for line in (out / "dpo-data.jsonl").read_text().splitlines()]
    anchors = [row for row in trained if isinstance(row["chosen"], str)]
    assert len(anchors) == r["anchor_rows"] and all(row["chosen"] == row["rejected"] for row in anchors)
    assert len(trained) - len(anchors) == len(open_pairs)
    assert all((out / image).is_file() for row in trained for image in row["images"])
    dpo = yaml.safe_load((out / "dpo.yaml").read_text())
    assert [t["name"] for t in dpo["loss"]["terms"]] == ["sigmoid", "sft"] and dpo["lora"]["r"] == r["dpo_rank"]
    assert "| base | sequence |" in (out / "results.md").read_text()


def test_set_overrides_a_setting_and_rejects_unknown_fields():
    import pytest

    QUICK, overridden = _probe().QUICK, _probe().overridden
    assert overridden(QUICK, ["dpo_lr=2e-4", "dpo_steps=7"]).dpo_lr == 2e-4
    assert overridden(QUICK, ["dpo_steps=7"]).dpo_steps == 7
    with pytest.raises(SystemExit, match="FIELD one of"):
        overridden(QUICK, ["dpo_rate=1"])
    with pytest.raises(SystemExit, match="is not a valid int"):
        overridden(QUICK, ["dpo_steps=many"])


def _probe():
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "scripts"))
    import reference_probe

    return reference_probe


def test_dpo_data_keeps_the_chosen_formats_only(tmp_path):
    probe = _probe()
    pairs = tmp_path / "pairs-4"
    pairs.mkdir()
    rows = [{"id": f"p{i}", "images": [f"images/{i}.png"], "prompt": [], "chosen": [], "rejected": [],
             "meta": {"format": fmt}} for i, fmt in enumerate(["sequence", "grid_collage", "pic_in_pic", "sequence"])]
    (pairs / "open.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    recipe = probe.overridden(probe.QUICK, ["dpo_formats=sequence,pic_in_pic", "anchor_rows=0"])
    kept = [json.loads(line) for line in probe.dpo_data(tmp_path, pairs, recipe).read_text().splitlines()]
    assert sorted(row["id"] for row in kept) == ["p0", "p2", "p3"]
    assert all(row["images"][0].startswith("pairs-4/images/") for row in kept)


def test_unknown_format_and_missing_base_are_clear_errors(tmp_path):
    import pytest

    probe = _probe()
    (tmp_path / "pairs-1").mkdir()
    (tmp_path / "pairs-1" / "open.jsonl").write_text("")
    with pytest.raises(SystemExit, match="unknown format.*collage"):
        probe.dpo_data(tmp_path, tmp_path / "pairs-1", probe.overridden(probe.QUICK, ["dpo_formats=collage"]))
    with pytest.raises(SystemExit, match="no model there"):
        probe.main(["--out", str(tmp_path / "o"), "--base", str(tmp_path / "nothing"), "--quick"])
