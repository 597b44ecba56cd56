"""scripts/demo_kinds.py: symmetric colour pairs (and the random control), and the tables of a seed folder."""

from __future__ import annotations

import json

from mmalign.data.synth.world import write_llava_instructions
from tests.helpers import load_script

demo_kinds = load_script("demo_kinds")


def _pair(row_id: str, chosen: str, rejected: str) -> dict:
    turn = lambda text: [{"role": "assistant", "content": [{"type": "text", "text": text}]}]
    return {"id": row_id, "images": [], "prompt": [], "chosen": turn(chosen), "rejected": turn(rejected),
            "meta": {"format": "sequence"}}


def _seed(tmp_path):
    """A seed folder with 40 source rows, all sequence; pairs: 3 'Red.' over 'blue.', 1 'Blue.' over 'red.'."""
    seed = tmp_path / "run" / "seed-0"
    source = write_llava_instructions(seed / "source", seed=1, count=40)
    rows = json.loads(source.read_text())
    (seed / "pairs").mkdir(parents=True)
    (seed / "pairs" / "summary.json").write_text(json.dumps({"proportions": {"sequence": 1.0}, "config": {"seed": 0}}))
    colour = [r["id"] for r in rows if r["meta"]["kind"] == "colour"][:4]
    shape = next(r["id"] for r in rows if r["meta"]["kind"] == "shape")
    pairs = [_pair(colour[0], "Red.", "blue."), _pair(colour[1], "Red.", "blue."), _pair(shape, "A circle.", "a cross."),
             _pair(colour[2], "Blue.", "red."), _pair(colour[3], "Red.", "blue.")]
    (seed / "pairs" / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    progress = [{"id": r["id"], "reason": "same_as_ground_truth"} for r in rows]
    (seed / "pairs" / "progress.jsonl").write_text("".join(json.dumps(p) + "\n" for p in progress))
    return seed, colour, shape


def test_symmetric_keeps_as_many_each_way(tmp_path):
    seed, colour, shape = _seed(tmp_path)
    counts = demo_kinds.write_symmetric(seed, tmp_path / "sym")
    kept = [p["id"] for p in demo_kinds.read_jsonl(tmp_path / "sym" / "pairs.jsonl")]
    assert kept == [colour[0], shape, colour[2]]  # one red-over-blue (the first), the blue-over-red, the shape pair
    assert counts["cut pairs"] == 4 and counts["cut kept"] == 2
    control = demo_kinds.write_symmetric(seed, tmp_path / "ctl", control=True)
    assert control["kept"] == 3 and shape in [p["id"] for p in demo_kinds.read_jsonl(tmp_path / "ctl" / "pairs.jsonl")]


def test_pair_tables_count_words(tmp_path):
    seed, _, _ = _seed(tmp_path)
    res = demo_kinds.pair_tables(seed, seed / "pairs")
    assert res["answers"]["sequence / colour"]["chosen"] == {"red": 3, "blue": 1}
    assert res["answers"]["sequence / colour"]["rejected"] == {"blue": 3, "red": 1}
    assert res["counts"]["sequence / colour"]["pairs"] == 4
