"""reward_augment: score-conditioned doubling of pairs."""

from __future__ import annotations

import copy

import pytest

from mmalign.data.transforms import apply_transforms, reward_augment


def goal(score: str) -> str:
    return ("You are an assistant that generates responses for the instruction while implicitly achieving the "
            "following target scores (on a scale of 1-10, where 1 is lowest and 10 is highest):\n"
            f"Overall score: {score}.")


def text(t):
    return [{"type": "text", "text": t}]


RECORDS = [
    {"id": "p1", "images": ["a.jpg"],
     "prompt": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Colour?"}]}],
     "chosen": [{"role": "assistant", "content": text("Red.")}],
     "rejected": [{"role": "assistant", "content": text("Blue.")}],
     "scores": {"chosen": 8.0, "rejected": 3.5}, "source": "uf"},
    {"id": "p2", "prompt": "Say hi", "chosen": "Hi", "rejected": "Bye", "scores": {"chosen": 2, "rejected": 7}},
]


def test_system_mode_doubles_pairs_positives_first():
    records = RECORDS[:1]
    before = copy.deepcopy(records)
    out = apply_transforms(records, [{"name": "reward_augment"}])
    assert records == before
    user = {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Colour?"}]}
    assert out == [
        {"id": "p1#rw", "images": ["a.jpg"],
         "prompt": [{"role": "system", "content": text(goal("8"))}, user],
         "chosen": [{"role": "assistant", "content": text("Red.")}],
         "rejected": [{"role": "assistant", "content": text("Blue.")}],
         "scores": {"chosen": 8.0, "rejected": 3.5}, "source": "uf",
         "meta": {"reward_target": "chosen", "target_score": 8.0}},
        {"id": "p1#rl", "images": ["a.jpg"],
         "prompt": [{"role": "system", "content": text(goal("3.5"))}, user],
         "chosen": [{"role": "assistant", "content": text("Blue.")}],
         "rejected": [{"role": "assistant", "content": text("Red.")}],
         "scores": {"chosen": 3.5, "rejected": 8.0}, "source": "uf",
         "meta": {"reward_target": "rejected", "target_score": 3.5}},
    ]


def test_user_mode_prefixes_the_first_user_text_and_inverted_pairs():
    out = reward_augment(RECORDS, mode="user", drop_inverted=False)
    assert [r["id"] for r in out] == ["p1#rw", "p2#rw", "p1#rl", "p2#rl"]
    assert out[0]["prompt"] == [{"role": "user", "content": [{"type": "image"},
                                                            {"type": "text", "text": goal("8") + "\n\nColour?"}]}]
    assert out[1]["prompt"] == goal("2") + "\n\nSay hi"
    assert (out[1]["chosen"], out[1]["rejected"]) == ("Hi", "Bye")
    assert out[3]["prompt"] == goal("7") + "\n\nSay hi"
    assert (out[3]["chosen"], out[3]["rejected"], out[3]["scores"]) == ("Bye", "Hi", {"chosen": 7, "rejected": 2})


def test_inverted_pairs_dropped_by_default_and_errors():
    assert [r["id"] for r in reward_augment(RECORDS, mode="user")] == ["p1#rw", "p1#rl"]
    with pytest.raises(ValueError, match="plain-string prompt"):
        reward_augment(RECORDS[1:], drop_inverted=False)
    with pytest.raises(ValueError, match="mode must be one of system, user"):
        reward_augment(RECORDS, mode="assistant")
    with pytest.raises(ValueError, match="'p3': needs scores.chosen"):
        reward_augment([{"id": "p3", "prompt": "q", "chosen": "a", "rejected": "b"}])


def test_existing_system_turn_gets_the_goal_first():
    rec = {"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q"}],
           "chosen": "a", "rejected": "b", "scores": {"chosen": 9, "rejected": 9}}
    out = reward_augment([rec], template="Target {score}")
    assert out[0]["prompt"][0] == {"role": "system", "content": "Target 9\n\nBe brief."}
    assert len(out[0]["prompt"]) == 2 and "id" not in out[0]
