"""Fake models for the rubric tests: `scripted` answers from a list, `by_rule` answers from the question it
is asked (the same question and seed: the same reply, in a forked child and after a resume too)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mmalign.models
from mmalign.judge.generative import Asker, load_template
from mmalign.models import Generation
from mmalign.rubrics.maker import JUDGE_NEEDS, JUDGE_PROMPT, WRITE_NEEDS, WRITE_PROMPT, RubricMaker


def asker(**kw) -> Asker:
    return Asker(model=None, processor=object(), adapter=None, root=Path("."), **kw)


def maker(samples: int = 2, orders: int = 2, seed: int = 0) -> RubricMaker:
    return RubricMaker(asker(temperature=0.7, seed=seed), asker(seed=seed + 1),
                       load_template(None, WRITE_PROMPT, WRITE_NEEDS), load_template(None, JUDGE_PROMPT, JUDGE_NEEDS),
                       samples=samples, orders=orders)


def question(record: dict) -> str:
    """The text of a generation input (what the model was asked)."""
    return " ".join(i["text"] for m in record["prompt"] for i in m["content"] if i.get("type") == "text")


@pytest.fixture
def scripted(monkeypatch):
    """models.generate answering from a list of replies, in order; records every call's questions and seed."""
    calls = []
    script: list[str] = []

    def fake(model, processor, records, *, seed=None, **kw):
        records = list(records)
        calls.append({"questions": [question(r) for r in records], "seed": seed, **kw})
        return [Generation(script.pop(0), []) for _ in records]

    monkeypatch.setattr(mmalign.models, "generate", fake)
    return script, calls


def rule_reply(text: str, seed: int | None) -> str:
    """A writer question: a rubric naming the seed, or (seed % 3 == 0) prose without one. A judge question:
    a verdict from the hash of the question ("[[A]]", "[[B]]", or none)."""
    if "You write grading rubrics" in text:
        if seed is None or seed % 3 == 0:
            return "I cannot write a rubric for this."
        return "Rubric:\n```json\n" + json.dumps({"hard_rules": [f"Answer yes or no ({seed})."],
                                                 "principles": ["Say what the image shows."]}) + "\n```"
    return ["[[A]]", "[[B]]", "A is better, I think", "[[A]]", "[[B]]"][sum(text.encode()) % 5]


@pytest.fixture
def by_rule(monkeypatch):
    def fake(model, processor, records, *, seed=None, **kw):
        return [Generation(rule_reply(question(r), seed), []) for r in records]

    monkeypatch.setattr(mmalign.models, "generate", fake)


@pytest.fixture
def no_loading(monkeypatch):
    """The model judges' loader (`mmalign.judge.spec.load_asker`) builds an Asker without a model; returns the
    model paths it was asked to load."""
    import mmalign.judge.spec

    loaded = []

    def fake(options, context):
        loaded.append(options["model"])
        keep = ("samples", "temperature", "top_p", "max_new_tokens", "batch_size", "seed")
        return asker(**{k: options[k] for k in keep}, video_frames=context.video_frames)

    monkeypatch.setattr(mmalign.judge.spec, "load_asker", fake)
    return loaded
