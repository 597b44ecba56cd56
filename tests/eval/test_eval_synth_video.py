"""synth-video: basic/hallucinated pairs with known truth (object, direction, temporal order), scoring."""

import random

import pytest

from mmalign.data.synth.video import VideoScene
from mmalign.data.synth.video_suite import VIDEO_SUBSETS, video_pair, video_rows
from mmalign.eval import Question, score_predictions


def test_pairs_by_hand():
    rng = random.Random(0)
    scene = VideoScene("circle", "red", "left")
    assert video_pair(scene, "direction", rng) == ("Does the red circle move left?", "Does the red circle move right?")
    # moving left, it starts on the right
    assert video_pair(scene, "temporal", rng) == ("Is the red circle on the right before it is on the left?",
                                                   "Is the red circle on the left before it is on the right?")
    up = VideoScene("square", "orange", "up")
    assert video_pair(up, "temporal", rng)[0] == "Is the orange square on the bottom before it is on the top?"
    basic, hallucinated = video_pair(up, "object", rng)
    assert basic == "Is there an orange square in the video?" and hallucinated != basic


def test_rows_are_paired_and_default_size():
    _, rows = video_rows(seed=0, count=2000)
    assert len(rows) >= 2000 and len(rows) % 6 == 0
    for basic, hall in zip(rows[::2], rows[1::2]):
        assert basic["truth"]["pair"] == hall["truth"]["pair"] and basic["videos"] == hall["videos"]
        assert (basic["truth"]["label"], hall["truth"]["label"]) == ("yes", "no")
    assert {r["subset"] for r in rows} == set(VIDEO_SUBSETS)


def vq(subset, n, role):
    label = "yes" if role == "basic" else "no"
    return Question(f"{subset}/{n}/{role}", ("v.mp4",), "?", {"label": label, "pair": f"{subset}/{n}", "role": role},
                    subset, "video")


def test_scoring_by_hand():
    questions = [vq("object", 0, "basic"), vq("object", 0, "hallucination"),
                 vq("object", 1, "basic"), vq("object", 1, "hallucination"),
                 vq("temporal", 0, "basic"), vq("temporal", 0, "hallucination")]
    answers = {"object/0/basic": "Yes.", "object/0/hallucination": "No, it is not.",  # pair right
               "object/1/basic": "Yes", "object/1/hallucination": "Yes, there is",  # hallucinated
               "temporal/0/basic": "No.", "temporal/0/hallucination": "No."}
    m = score_predictions("synth-video", questions, answers)
    o = m["subsets"]["object"]
    assert (o["basic_accuracy"], o["hallucinated_accuracy"], o["paired_accuracy"]) == (100.0, 50.0, 50.0)
    assert (o["accuracy"], o["hallucination_rate"], o["yes_ratio"], o["pairs"]) == (75.0, 50.0, 75.0, 2)
    t = m["subsets"]["temporal"]
    assert (t["basic_accuracy"], t["hallucinated_accuracy"], t["paired_accuracy"]) == (0.0, 100.0, 0.0)
    overall = m["overall"]
    # 4 of 6 questions right; 1 of 3 hallucinated questions answered yes; paired = mean(50, 0)
    assert overall["accuracy"] == pytest.approx(400 / 6)
    assert overall["hallucination_rate"] == pytest.approx(100 / 3)
    assert overall["paired_accuracy"] == pytest.approx(25.0)


def test_a_pair_missing_half_is_left_out(tmp_path):
    questions = [vq("direction", 0, "basic"), vq("direction", 0, "hallucination"), vq("direction", 1, "basic")]
    m = score_predictions("synth-video", questions, {"direction/0/basic": "Yes", "direction/0/hallucination": "No",
                                                     "direction/1/basic": "Yes"})
    assert m["subsets"]["direction"]["pairs"] == 1 and m["subsets"]["direction"]["paired_accuracy"] == 100.0
