"""The synthetic world as text: one word per patch, labelled sequences whose target run holds the answer."""

import json
import random
import re

from mmalign.data.synth.patch_text import BACKGROUND_WORD, patch_words, text_record, write_patch_text
from mmalign.data.synth.scenes import Scene


def test_a_centred_square_names_the_middle_patches_only():
    # Half-extent 0.25 -> the square spans 0.2875..0.7125 of the side: the 2 x 2 middle patches are covered,
    # the border patches are (almost) empty.
    words = patch_words(Scene("square", "red", 0.5, 0.5, 0.25))
    assert len(words) == 16
    middle = [words[i] for i in (5, 6, 9, 10)]
    assert middle == ["red", "square", "red", "square"]  # colour and shape alternate, row by row
    assert all(words[i] == BACKGROUND_WORD for i in range(16) if i not in (5, 6, 9, 10))


def test_a_tiny_object_is_still_named():
    words = patch_words(Scene("cross", "blue", 0.1, 0.1, 0.02))
    assert "blue" in words and "cross" in words


def _runs(prompt):
    """{label: words of that text image} of a sequence prompt."""
    return {int(n): run.split() for n, run in re.findall(r"Image(\d+): (.+?)\s*(?=Image\d+:|In Image)", prompt)}


def test_sequences_ask_about_the_referenced_run_and_hold_a_lure():
    rng = random.Random(3)
    seen = 0
    for i in range(200):
        rec = text_record(i, rng, single_share=0.0)
        runs = _runs(rec["prompt"])
        assert 2 <= len(runs) <= 4 and all(len(words) == 16 for words in runs.values())
        target = int(re.search(r"In Image(\d+),", rec["prompt"]).group(1))
        answer = rec["chosen"].rstrip(".").lower().split()[-1]
        if answer not in ("yes", "no"):  # colour and shape questions: the answer is written in the target run
            seen += 1
            assert answer in runs[target]
            wrong = rec["rejected"].rstrip(".").lower().split()[-1]
            assert any(wrong in words for n, words in runs.items() if n != target)  # the lure holds it
    assert seen > 50


def test_single_share_and_determinism(tmp_path):
    a = write_patch_text(tmp_path / "a.jsonl", seed=1, count=300, single_share=0.5)
    b = write_patch_text(tmp_path / "b.jsonl", seed=1, count=300, single_share=0.5)
    assert a.read_text() == b.read_text()
    rows = [json.loads(line) for line in a.read_text().splitlines()]
    singles = sum("Image1:" not in r["prompt"] for r in rows)
    assert 110 < singles < 190 and len({r["id"] for r in rows}) == 300


def test_max_extra_zero_writes_two_image_sequences_only(tmp_path):
    rows = [json.loads(line) for line in
            write_patch_text(tmp_path / "two.jsonl", seed=2, count=200, single_share=0.0, max_extra=0).read_text().splitlines()]
    assert {len(_runs(r["prompt"])) for r in rows} == {2}
    wide = [json.loads(line) for line in
            write_patch_text(tmp_path / "wide.jsonl", seed=2, count=200, single_share=0.0).read_text().splitlines()]
    assert {len(_runs(r["prompt"])) for r in wide} == {2, 3, 4}
