"""synth-multi: truth of each format (target vs distractors), the answer parser, scoring by hand."""

import os
import random
import re

import pytest

from mmalign.data.synth import Scene
from mmalign.data.synth.questions import Question as SynthQuestion
from mmalign.data.synth.suites import MULTI_FORMATS, multi_sample, multi_truth, write_suite
from mmalign.eval import BENCHMARKS, Question, score_predictions
from mmalign.eval.synth import parse_multi


def test_samples_point_at_the_target_and_hold_a_lure():
    rng = random.Random(0)
    for i in range(60):
        fmt, aug, truth = multi_sample(i, 0, rng, 32)
        assert fmt == MULTI_FORMATS[i % 3]
        assert aug.format == {"sequence": "sequence", "collage": "grid_collage", "inset": "pic_in_pic"}[fmt]
        n_images = len(aug.images)
        assert aug.prompt.count("<image>") == n_images == (len(truth["distractors"]) + 1 if fmt == "sequence" else 1)
        if fmt != "inset":
            assert f"In Image{aug.target_index + 1}, " in aug.prompt
        target = truth["target"]
        if truth["kind"] == "colour":
            assert truth["answer"] == target["colour"]
            assert truth["distractor_answers"]  # the lure: same shape, the wrong colour
            assert truth["answer"] not in truth["distractor_answers"]
        elif truth["kind"] == "shape":
            assert truth["answer"] == target["shape"] and truth["distractor_answers"]
        else:
            colour, shape = re.search(r"Is there an? (\w+) (\w+)", aug.prompt, re.IGNORECASE).groups()
            expected = "yes" if (colour, shape) == (target["colour"], target["shape"]) else "no"
            assert truth["answer"] == expected
            assert truth["distractor_answers"] == ([] if expected == "yes" else ["yes"])


def test_truth_by_hand():
    target = Scene("circle", "red", 0.5, 0.5, 0.3)
    others = [Scene("circle", "blue", 0.5, 0.5, 0.3), Scene("square", "red", 0.5, 0.5, 0.3)]
    colour_q = SynthQuestion("What colour is the circle?", "Red.", "Blue.", "colour")
    assert multi_truth(target, others, colour_q)["distractor_answers"] == ["blue"]  # red is the target's
    shape_q = SynthQuestion("What shape is in the image?", "A circle.", "A square.", "shape")
    assert multi_truth(target, others, shape_q)["distractor_answers"] == ["square"]
    exists_q = SynthQuestion("Is there a blue circle in the image?", "No.", "Yes.", "exists")
    t = multi_truth(target, others, exists_q)
    assert (t["answer"], t["distractor_answers"]) == ("no", ["yes"])


def test_parser():
    assert parse_multi("Red.", "colour") == "red"
    assert parse_multi("It is a BLUE square, not red", "colour") == "blue"
    assert parse_multi("two crosses and a circle", "shape") == "cross"
    assert parse_multi("Triangles.", "shape") == "triangle"
    assert parse_multi("No, there is not.", "exists") == "no"
    assert parse_multi("yes", "exists") == "yes"
    assert parse_multi("I cannot tell", "colour") is None
    assert parse_multi("", "exists") is None


def mq(qid, fmt, kind, answer, lures):
    return Question(qid, ("a.png",), "?", {"kind": kind, "answer": answer, "distractor_answers": lures}, fmt)


def test_scoring_by_hand():
    questions = [mq("s1", "sequence", "colour", "red", ["blue"]), mq("s2", "sequence", "shape", "circle", ["square"]),
                 mq("c1", "collage", "exists", "no", ["yes"]), mq("c2", "collage", "colour", "green", ["red"]),
                 mq("i1", "inset", "shape", "cross", ["triangle"])]
    answers = {"s1": "Red.", "s2": "A square.", "c1": "Yes, there is.", "c2": "purple", "i1": "I do not know"}
    m = score_predictions("synth-multi", questions, answers)
    # right: s1 only; hallucinated: s2 (square is a distractor's), c1 (yes: the object is a distractor's);
    # c2 is wrong without being a distractor's; i1 has no shape word
    o = m["overall"]
    assert (o["correct"], o["hallucinated"], o["n"]) == (1, 2, 5)
    assert o["accuracy"] == pytest.approx(20.0) and o["hallucination_rate"] == pytest.approx(40.0)
    assert o["unparsed_rate"] == pytest.approx(20.0)
    s = m["subsets"]
    assert (s["sequence"]["accuracy"], s["sequence"]["hallucination_rate"]) == (50.0, 50.0)
    assert (s["collage"]["accuracy"], s["collage"]["hallucination_rate"]) == (0.0, 50.0)
    assert (s["inset"]["accuracy"], s["inset"]["hallucination_rate"], s["inset"]["unparsed_rate"]) == (0.0, 0.0, 100.0)
    assert m["kinds"]["colour"]["accuracy"] == 50.0 and m["kinds"]["exists"]["hallucination_rate"] == 100.0


def test_writer_and_reader(tmp_path):
    path = write_suite("synth-multi", tmp_path, seed=4, count=9)
    questions = BENCHMARKS["synth-multi"].read_questions(path, None)
    assert [q.subset for q in questions] == list(MULTI_FORMATS) * 3
    for question in questions:
        assert question.prompt.count("<image>") == len(question.media)
        assert all(os.path.isfile(p) for p in question.media)
        assert question.truth["format"] in ("sequence", "grid_collage", "pic_in_pic")
