"""synth-pope: the suite's truth (negatives per split) and its scoring on hand-made answers."""

import json
from collections import Counter

import pytest

from mmalign.data.synth.suites import POPE_SPLITS, pope_rows, write_suite
from mmalign.errors import DataError
from mmalign.eval import BENCHMARKS, Question, score_predictions


def test_default_size_and_balance():
    scenes, rows = pope_rows(seed=0)
    assert len(rows) >= 2000
    assert len(rows) == 6 * len(scenes)
    for split in POPE_SPLITS:
        labels = Counter(r["truth"]["label"] for r in rows if r["subset"] == split)
        assert labels["yes"] == labels["no"] == len(scenes)


def test_negatives_are_never_in_the_image_and_follow_their_split():
    scenes, rows = pope_rows(seed=1, count=600)
    shapes_by_freq = Counter(s.shape for s in scenes)
    objects_by_freq = Counter(f"{s.colour} {s.shape}" for s in scenes)
    for row in rows:
        truth = row["truth"]
        i = int(row["id"].split("/")[1].split("-")[0])
        scene = scenes[i]
        in_image = scene.shape if truth["kind"] == "object" else f"{scene.colour} {scene.shape}"
        assert truth["in_image"] == in_image
        assert row["prompt"].endswith(f" {truth['object']} in the image?")
        if truth["label"] == "yes":
            assert truth["object"] == in_image
            continue
        assert truth["object"] != in_image
        freq = shapes_by_freq if truth["kind"] == "object" else objects_by_freq
        if row["subset"] == "popular":  # one of the 3 most frequent objects not in the image
            top = sorted((k for k in freq if k != in_image), key=lambda k: (-freq[k], k))[:3]
            assert truth["object"] in top
        if row["subset"] == "adversarial":
            if truth["kind"] == "colour":  # same shape, another colour
                assert truth["object"].split()[1] == scene.shape
            else:  # the shape seen most often with this image's colour
                co = Counter(s.shape for s in scenes if s.colour == scene.colour)
                best = max(co[k] for k in co if k != scene.shape) if len(co) > 1 else 0
                assert co[truth["object"]] == best


def test_writer_and_reader(tmp_path):
    path = write_suite("synth-pope", tmp_path, seed=2, count=12)
    questions = BENCHMARKS["synth-pope"].read_questions(path, None)
    assert len(questions) == 12 and {q.subset for q in questions} == set(POPE_SPLITS)
    assert all(q.media[0].startswith(str(tmp_path)) for q in questions)
    assert (tmp_path / "img" / "pope-2-0.png").is_file()
    # a folder works as --data too, and a broken line names file and line
    assert len(BENCHMARKS["synth-pope"].read_questions(tmp_path, None)) == 12
    lines = path.read_text().splitlines()
    bad = json.loads(lines[1])
    del bad["truth"]["label"]
    path.write_text("\n".join([lines[0], json.dumps(bad)] + lines[2:]) + "\n")
    with pytest.raises(DataError, match=r"questions.jsonl:2: truth: missing field\(s\) 'label'"):
        BENCHMARKS["synth-pope"].read_questions(path, None)


def q(qid, split, label, kind="object"):
    return Question(qid, ("x.png",), "Is there a circle in the image?", {"label": label, "kind": kind}, split)


def test_scoring_by_hand():
    questions = [q("r1", "random", "yes"), q("r2", "random", "no"), q("r3", "random", "yes", "colour"),
                 q("r4", "random", "no", "colour"), q("p1", "popular", "yes"), q("p2", "popular", "no")]
    answers = {"r1": "Yes.", "r2": "yes, there is", "r3": "No, there is not", "r4": "No.",
               "p1": "Yes", "p2": "There is no circle."}
    m = score_predictions("synth-pope", questions, answers)
    # random: TP 1 (r1), FP 1 (r2), FN 1 (r3), TN 1 (r4) -> all 50; hallucination = 1 of 2 "no" questions
    r = m["subsets"]["random"]
    assert (r["tp"], r["fp"], r["tn"], r["fn"]) == (1, 1, 1, 1)
    for key in ("accuracy", "precision", "recall", "f1", "yes_ratio", "hallucination_rate"):
        assert r[key] == pytest.approx(50.0)
    p = m["subsets"]["popular"]  # both right
    assert (p["accuracy"], p["f1"], p["yes_ratio"], p["hallucination_rate"]) == (100.0, 100.0, 50.0, 0.0)
    o = m["overall"]  # unweighted mean of the two splits
    assert (o["accuracy"], o["f1"], o["yes_ratio"], o["hallucination_rate"], o["n"]) == (75.0, 75.0, 50.0, 25.0, 6)
    # kinds: object = r1 r2 p1 p2 -> 3 of 4 right, 1 of 2 "no" answered yes; colour = r3 r4 -> 1 of 2 right
    assert m["kinds"]["object"]["accuracy"] == 75.0 and m["kinds"]["object"]["hallucination_rate"] == 50.0
    assert m["kinds"]["colour"]["accuracy"] == 50.0 and m["kinds"]["colour"]["hallucination_rate"] == 0.0
    assert m["benchmark"] == "synth-pope" and m["missing_answers"] == 0
