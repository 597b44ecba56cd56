"""Rubrics (OpenRubrics; docs/data-quality.md) and the rubric judge, which grades each answer against its
prompt's rubric.

A rubric is `{"hard_rules": [...], "principles": [...]}`: hard rules are explicit constraints the prompt sets
(answer in one word, name the colour); principles are the qualities that make one answer better than another
(faithful to the image, no invented objects). Each item is one sentence of plain text, so a user can read and
edit a rubrics file by hand. `parse_rubric(reply)` finds the rubric in a model's reply (a bare JSON object, one
inside a ```json fence, or one inside prose); `check_rubric(value)` checks an object already decoded;
`rubric_text(rubric)` is how a judge is shown it; `load_rubrics(path)` reads a rubrics file (`mmalign rubrics
build`'s rubrics.jsonl, edited or not) into {record id: rubric}.

The judge:

    rubric:model=PATH,rubrics=FILE[,prompt=FILE,max_score=10,missing=error,use_rejected=false,samples=1,...]

The rubric of a record is found by its id. The model sees the question, the rubric (hard rules, then
principles) and one answer (prompts/rubric_pointwise.txt; replace it with `prompt=FILE`, which must hold
{prompt}, {rubric} and {response}) and ends with "Score: N" on a 0-`max_score` scale; samples are averaged as
the pointwise judge does, and a reply without a score gives None (counted by `mmalign score`). A record without
a rubric (none built, or its rubric was rejected and `use_rejected` is false): with `missing=error` (the
default) an error naming the id; with `missing=skip` its answers get no score, which `mmalign score` counts as
it counts replies without a score. Registered in mmalign.judge.spec, beside the other model judges.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError, MMAlignError
from ..io import check_data_file, numbered_jsonl, raw_decode
from .base import Score, mean_or_none
from .generative import Asker, fill, load_template, question_text
from .parse import parse_score
from .spec import JudgeContext

KINDS = ("hard_rules", "principles")
FENCE = re.compile(r"```[a-zA-Z]*[ \t]*\n(.*?)```", re.DOTALL)


class RubricProblem(ValueError):
    """Why a reply or a line holds no usable rubric (the message says what was expected)."""


def _key(name: str) -> str:
    # Models write "Hard Rules", "hard-rules", "hardRules": all name the same list.
    return re.sub(r"[\s\-]+", "_", re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name.strip())).lower()


def check_rubric(value: Any) -> dict[str, list[str]]:
    """The rubric `value` holds, items stripped; raises RubricProblem when it is not one."""
    if not isinstance(value, dict):
        raise RubricProblem(f"a rubric must be a JSON object, got {type(value).__name__}")
    found = {_key(k): v for k, v in value.items() if isinstance(k, str)}
    if not any(kind in found for kind in KINDS):
        raise RubricProblem("a rubric needs a 'hard_rules' or a 'principles' list")
    rubric: dict[str, list[str]] = {}
    for kind in KINDS:
        items = found.get(kind, [])
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise RubricProblem(f"'{kind}' must be a list of strings")
        rubric[kind] = [i.strip() for i in items if i.strip()]
    if not rubric["hard_rules"] and not rubric["principles"]:
        raise RubricProblem("the rubric has no criteria (both lists are empty)")
    return rubric


def _objects(text: str):
    """Every JSON object that starts somewhere in `text`, in order of its start."""
    for start in (m.start() for m in re.finditer(r"\{", text)):
        try:
            value, _ = raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            yield value


def parse_rubric(reply: str) -> dict[str, list[str]]:
    """The first rubric in a model's reply (fenced blocks first, then any object); raises RubricProblem."""
    problem = RubricProblem("the reply holds no JSON object")
    for text in [*FENCE.findall(reply), reply]:
        for value in _objects(text):
            try:
                return check_rubric(value)
            except RubricProblem as exc:
                problem = exc  # keep looking: prose may hold other braces before the rubric
    raise problem


def rubric_text(rubric: dict[str, list[str]]) -> str:
    """The rubric as numbered lists, the way the judge prompts show it."""
    lines = ["Hard rules (explicit constraints; an answer that breaks one is wrong):"]
    lines += [f"  H{i}. {item}" for i, item in enumerate(rubric["hard_rules"], 1)] or ["  (none)"]
    lines.append("Principles (qualities that make an answer better):")
    lines += [f"  P{i}. {item}" for i, item in enumerate(rubric["principles"], 1)] or ["  (none)"]
    return "\n".join(lines)


def load_rubrics(path: str | Path, *, use_rejected: bool = False) -> dict[str, dict[str, list[str]]]:
    """{record id: rubric} of a rubrics file. Lines whose rubric was not accepted (`"accepted": false`) or is
    null are left out unless `use_rejected`; a line that is not a rubric line is a DataError with file:line."""
    path = Path(path)
    check_data_file(path, "rubrics file")
    rubrics: dict[str, dict[str, list[str]]] = {}
    for line, obj in numbered_jsonl(path):  # a malformed line: DataError with file:line
        where = f"{path}:{line}"
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), (str, int)) or isinstance(obj["id"], bool):
            raise DataError(f"{where}: a rubrics line must be an object with an 'id' (string or integer)")
        rid = str(obj["id"])
        if rid in rubrics:
            raise DataError(f"{where}: id {rid!r} appeared on an earlier line")
        if obj.get("rubric") is None or not (obj.get("accepted", True) or use_rejected):
            continue
        try:
            rubrics[rid] = check_rubric(obj["rubric"])
        except RubricProblem as exc:
            raise DataError(f"{where}: {exc}") from None
    return rubrics


# ------------------------------------------------------------------------------------------- the judge

DEFAULT_PROMPT = "rubric_pointwise.txt"
MISSING = ("error", "skip")


@dataclass
class RubricJudge:
    name: str
    asker: Asker
    template: str
    rubrics: dict[str, dict[str, list[str]]]
    source: str = "the rubrics file"  # named in the error for a record without a rubric
    max_score: float = 10.0
    missing: str = "error"
    replies: list = field(default_factory=list)  # per record, per candidate: the raw replies of the last call

    def rubric_for(self, record: dict) -> dict[str, list[str]] | None:
        rubric = self.rubrics.get(str(record["id"]))
        if rubric is None and self.missing == "error":
            raise MMAlignError(f"rubric judge {self.name}: no accepted rubric for record {record['id']!r} in "
                               f"{self.source}; build one (mmalign rubrics build), or give missing=skip")
        return rubric

    def score(self, records: list[dict]) -> list[list[Score]]:
        self.replies = []
        out = []
        for record in records:
            rubric = self.rubric_for(record)
            if rubric is None:  # missing=skip: no score, as for a reply without one
                self.replies.append([[] for _ in record["candidates"]])
                out.append([None] * len(record["candidates"]))
                continue
            question, shown = question_text(record), rubric_text(rubric)
            prompts = [fill(self.template, prompt=question, rubric=shown, response=c["text"])
                       for c in record["candidates"]]
            replies = self.asker.ask(record, prompts)
            self.replies.append(replies)
            out.append([mean_or_none([parse_score(r, self.max_score) for r in rs]) for rs in replies])
        return out


def build_rubric_judge(options: dict, context: JudgeContext, load_asker) -> RubricJudge:
    """The judge `rubric:...` names (options as mmalign.judge.spec declares them); checks come before the
    model is loaded by `load_asker(options, context)`."""
    if options["missing"] not in MISSING:
        raise MMAlignError(f"judge rubric: missing={options['missing']!r}; give one of {', '.join(MISSING)}")
    if options["max_score"] <= 0:
        raise MMAlignError("judge rubric: max_score must be > 0")
    template = load_template(options["prompt"], DEFAULT_PROMPT, ("prompt", "rubric", "response"))
    rubrics = load_rubrics(options["rubrics"], use_rejected=options["use_rejected"])
    return RubricJudge("rubric", load_asker(options, context), template, rubrics, source=options["rubrics"],
                       max_score=options["max_score"], missing=options["missing"])
