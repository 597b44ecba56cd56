"""Rejection sampling with scripted writer and judge replies: hand-worked reasons and acceptance rates."""

import json

from rubric_fakes import maker

from mmalign.judge.base import derived_seed
from mmalign.rubrics.build import summarise

RUBRIC = json.dumps({"hard_rules": ["Say yes or no."], "principles": ["Match the image."]})


def record(rid: str) -> dict:
    return {"id": rid, "prompt": "<image>\nIs there a red circle?", "images": ["img/1.png"],
            "chosen": "Yes.", "rejected": "No."}


def test_acceptance_over_four_records_is_hand_worked(scripted):
    script, _ = scripted
    script += [
        # r1, attempt 0: chosen first [[A]] -> 1; chosen second [[B]] -> 1; mean 1 > .5: accepted
        RUBRIC, "[[A]]", "[[B]]",
        # r2: attempt 0 prose: unparsed; attempt 1: [[A]] both orders -> (1 + 0) / 2 = .5, not above: disagreed
        "I would rather not.", RUBRIC, "[[A]]", "[[A]]",
        # r3: attempt 0: no verdict in either order; attempt 1: one order [[A]], the other none -> 1: accepted
        RUBRIC, "hmm", "tough call", RUBRIC, "[[A]]", "no idea",
        # r4: a rubric cut off, then one of the wrong shape: unparsed twice, no judge asked
        '{"hard_rules": ["Say yes', '{"principles": "Match the image."}',
    ]
    m = maker(samples=2)
    lines = [m.make(record(f"r{i}")) for i in range(1, 5)]
    assert not script  # every scripted reply was used: the judge is asked only about parsed rubrics
    assert [(x["reason"], x["accepted"], x["attempts"], x["sample"]) for x in lines] == [
        ("accepted", True, 1, 0), ("disagreed", False, 2, 1), ("accepted", True, 2, 1), ("unparsed", False, 2, None)]
    assert lines[1]["rubric"] == json.loads(RUBRIC) and lines[3]["rubric"] is None  # a rejected rubric is kept
    assert [t["reason"] for t in lines[2]["tries"]] == ["no_verdict", "accepted"]
    assert lines[1]["tries"][1]["p_chosen"] == 0.5 and lines[2]["tries"][1]["p_chosen"] == 1.0
    summary = summarise(lines, {}, {})
    assert summary["acceptance_rate"] == 0.5 and summary["reasons"] == {
        "accepted": 2, "disagreed": 1, "unparsed": 1, "no_verdict": 0}
    assert summary["attempts"] == {"total": 7, "accepted": 2, "disagreed": 1, "unparsed": 3, "no_verdict": 1}
    assert summary["attempt_acceptance_rate"] == round(2 / 7, 4)


def test_each_attempt_has_its_own_seed_and_the_judge_sees_both_orders(scripted):
    script, calls = scripted
    script += ["nothing", RUBRIC, "[[B]]", "[[A]]"]  # r: unparsed, then chosen loses in both orders
    line = maker(samples=2, seed=5).make(record("r"))
    assert line["reason"] == "disagreed" and line["tries"][1]["p_chosen"] == 0.0
    writes = [c for c in calls if len(c["questions"]) == 1]
    assert [c["seed"] for c in writes] == [derived_seed(5, "r", k, 0) for k in (0, 1)]  # from (seed, id, sample)
    assert [t["seed"] for t in line["tries"]] == [c["seed"] for c in writes]
    assert writes[0]["do_sample"] and writes[0]["temperature"] == 0.7
    write_q = writes[0]["questions"][0]
    assert "Is there a red circle?" in write_q and "<image>" not in write_q
    assert "[PREFERRED answer]\nYes.\n" in write_q and "[OTHER answer]\nNo.\n" in write_q
    (judged,) = [c for c in calls if len(c["questions"]) == 2]
    assert judged["seed"] is None and not judged["do_sample"]  # the judge is greedy
    first, second = judged["questions"]
    assert "H1. Say yes or no." in first and "P1. Match the image." in first
    assert "[Response A]\nYes.\n" in first and "[Response B]\nNo.\n" in first
    assert "[Response A]\nNo.\n" in second and "[Response B]\nYes.\n" in second


def test_one_order_shows_the_chosen_answer_first_or_second_by_seed(scripted):
    script, calls = scripted
    firsts = []
    for k in range(8):
        script += [RUBRIC, "[[A]]"]
        line = maker(samples=1, orders=1).make(record(f"r{k}"))
        chosen_first = "[Response A]\nYes.\n" in calls[-1]["questions"][0]
        firsts.append(chosen_first)
        assert line["accepted"] == chosen_first  # [[A]] agrees only when the chosen answer was shown as A
    assert len(calls[-1]["questions"]) == 1 and True in firsts and False in firsts
