"""The generative judges with scripted replies (hand-worked averages and win probabilities), and one real
tiny model to check the plumbing (images, prompts, seeds)."""

from pathlib import Path

import pytest

import mmalign.models
from mmalign.judge.generative import Asker, load_template, question_text
from mmalign.judge.pairwise import DEFAULT_PROMPT as PAIR_PROMPT
from mmalign.judge.pairwise import PairwiseModelJudge
from mmalign.judge.pointwise import DEFAULT_PROMPT as POINT_PROMPT
from mmalign.judge.pointwise import PointwiseJudge
from mmalign.models import Generation


@pytest.fixture
def scripted(monkeypatch):
    """models.generate answering from a list of replies; records every call's inputs and seed."""
    calls = []

    def fake(model, processor, records, *, seed=None, **kw):
        records = list(records)
        calls.append({"records": records, "seed": seed, **kw})
        return [Generation(script.pop(0), []) for _ in records]

    script: list[str] = []
    monkeypatch.setattr(mmalign.models, "generate", fake)
    return script, calls


def asker(**kw):
    return Asker(model=None, processor=object(), adapter=None, root=Path("."), **kw)


RECORD = {"id": "p1", "prompt": "<image>\nWhat colour is the circle?", "images": ["img/1.png"],
          "candidates": [{"text": "Red."}, {"text": "Blue."}, {"text": "Green."}]}


def test_pointwise_averages_parsed_samples_and_gives_none_without_a_score(scripted):
    script, calls = scripted
    script += ["Score: 4", "so... Score: 2", "no score here", "nothing", "Score: 9", "garbage"]
    judge = PointwiseJudge("pw", asker(samples=3, temperature=0.7), load_template(None, POINT_PROMPT,
                                                                                   ("prompt", "response")))
    rec = {**RECORD, "candidates": RECORD["candidates"][:2]}
    assert judge.score([rec]) == [[3.0, None]]  # (4 + 2) / 2; 9 is off the 5-point scale
    (call,) = calls
    assert call["do_sample"] and call["temperature"] == 0.7 and call["seed"] is not None
    prompt = call["records"][0]["prompt"]
    assert prompt[0]["content"][0] == {"type": "image"} and call["records"][0]["images"] == ["img/1.png"]
    text = prompt[0]["content"][1]["text"]
    assert "User: What colour is the circle?" in text and "<response>Red.</response>" in text
    assert "additive 5-point" in text and "<image>" not in text
    assert judge.replies == [[["Score: 4", "so... Score: 2", "no score here"], ["nothing", "Score: 9", "garbage"]]]


def test_pairwise_asks_both_orders_and_scores_a_round_robin(scripted):
    script, calls = scripted
    # ordered pairs (0,1) (0,2) (1,0) (1,2) (2,0) (2,1), greedy: one reply each
    script += ["[[A]]", "[[C]]", "[[A]]", "no verdict", "[[B]]", "Answer 1 is better"]
    template = load_template(None, PAIR_PROMPT, ("prompt", "response_a", "response_b"))
    judge = PairwiseModelJudge("pair", asker(), template)
    # P(0>1) = (1 + (1-1))/2 = .5; P(0>2) = (.5 + (1-0))/2 = .75; P(1>2) = (None, 1-1) = 0; P(2>0) = .25; P(2>1) = 1
    assert judge.score([RECORD]) == [[0.625, 0.25, 0.625]]
    assert calls[0]["seed"] is None and not calls[0]["do_sample"]
    first = calls[0]["records"][0]["prompt"][0]["content"][1]["text"]
    assert "[Response A]\nRed.\n" in first and "[Response B]\nBlue.\n" in first
    script += ["[[A]]", "[[A]]"]  # (0 first) A wins; (1 first) A wins, i.e. 1 beats 0
    assert judge.verdicts(RECORD, 0, 1) == (1.0, 0.0)
    script += ["[[B]]", "nothing"]
    assert judge.compare(RECORD, 0, 1) == 0.0


def test_prompt_files_are_replaceable_and_checked(tmp_path):
    mine = tmp_path / "judge.txt"
    mine.write_text("Rate {response} for {prompt}. Score: ?")
    assert load_template(str(mine), POINT_PROMPT, ("prompt", "response")).startswith("Rate {response}")
    mine.write_text("Rate it.")
    from mmalign.errors import MMAlignError

    with pytest.raises(MMAlignError, match="lacks {prompt}, {response}"):
        load_template(str(mine), POINT_PROMPT, ("prompt", "response"))
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Is it red?"}]}]
    assert question_text({"prompt": messages}) == "Is it red?"


def test_a_real_tiny_model_judges_an_image_record(tiny_llava_path, synth_pairs):
    from mmalign.judge import JudgeContext, build_judge

    data, root = synth_pairs
    import json

    first = json.loads(Path(data).read_text().splitlines()[0])
    rec = {"id": first["id"], "prompt": first["prompt"], "images": first["images"],
           "candidates": [{"text": "Red."}, {"text": "Blue."}]}
    judge = build_judge(f"pointwise:model={tiny_llava_path},samples=2,max_new_tokens=4",
                        JudgeContext(root=Path(root), device="cpu"))
    scores = judge.score([rec])
    assert len(scores[0]) == 2 and all(s is None or 0 <= s <= 5 for s in scores[0])
    assert scores == judge.score([rec])  # seeded from (seed, id): the same replies again
    assert all(len(r) == 2 for r in judge.replies[0])
