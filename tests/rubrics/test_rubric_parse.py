"""Finding a rubric in a model's reply, and reading (hand-edited) rubrics files."""

import json

import pytest

from mmalign.errors import DataError
from mmalign.rubrics import RubricProblem, check_rubric, load_rubrics, parse_rubric, rubric_text

GOOD = {"hard_rules": ["Answer in one word."], "principles": ["Name the true colour.", "No invented objects."]}


def test_a_bare_json_reply_is_the_rubric():
    assert parse_rubric(json.dumps(GOOD)) == GOOD


def test_a_rubric_inside_a_code_fence_or_prose_is_found():
    fenced = "Here is the rubric:\n```json\n" + json.dumps(GOOD) + "\n```\nHope it helps."
    assert parse_rubric(fenced) == GOOD
    # braces before the rubric ({x} is not JSON; {"note": 1} is an object but not a rubric): skipped
    prose = 'Using {x} and {"note": 1}, I wrote ' + json.dumps(GOOD) + " as asked."
    assert parse_rubric(prose) == GOOD


def test_keys_are_read_loosely_and_items_stripped():
    reply = '{"Hard Rules": ["  Say yes or no. ", ""], "principles": []}'
    assert parse_rubric(reply) == {"hard_rules": ["Say yes or no."], "principles": []}
    assert check_rubric({"hardRules": [], "Principles": ["Be exact."]}) == {"hard_rules": [],
                                                                            "principles": ["Be exact."]}


@pytest.mark.parametrize("reply, why", [
    ("no rubric at all", "holds no JSON object"),
    ('```json\n{"hard_rules": ["Say yes", \n```', "holds no JSON object"),  # cut off mid-object
    ('{"rules": ["Say yes."]}', "needs a 'hard_rules' or a 'principles' list"),
    ('{"hard_rules": "Say yes.", "principles": []}', "'hard_rules' must be a list of strings"),
    ('{"hard_rules": [1, 2], "principles": []}', "'hard_rules' must be a list of strings"),
    ('{"hard_rules": [" "], "principles": []}', "no criteria"),
])
def test_a_reply_without_a_usable_rubric_says_why(reply, why):
    with pytest.raises(RubricProblem, match=why):
        parse_rubric(reply)


def test_rubric_text_numbers_both_lists():
    assert rubric_text(GOOD).splitlines() == [
        "Hard rules (explicit constraints; an answer that breaks one is wrong):", "  H1. Answer in one word.",
        "Principles (qualities that make an answer better):", "  P1. Name the true colour.",
        "  P2. No invented objects."]
    assert "  (none)" in rubric_text({"hard_rules": [], "principles": ["x"]})


def _write(path, lines):
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_load_rubrics_keeps_accepted_ones_unless_asked(tmp_path):
    path = _write(tmp_path / "r.jsonl", [
        {"id": "a", "accepted": True, "rubric": GOOD},
        {"id": 7, "rubric": GOOD},  # hand-written: no 'accepted' means accepted
        {"id": "b", "accepted": False, "rubric": GOOD},
        {"id": "c", "accepted": False, "rubric": None}])
    assert sorted(load_rubrics(path)) == ["7", "a"]
    assert sorted(load_rubrics(path, use_rejected=True)) == ["7", "a", "b"]


@pytest.mark.parametrize("line, message", [
    ('{"id": "b", "rubric": {"principles": "x"}}', r"r\.jsonl:2: 'principles' must be a list"),
    ('{"rubric": {}}', r"r\.jsonl:2: a rubrics line must be an object with an 'id'"),
    ('{"id": "a", "rubric": {"principles": ["ok"]}}', r"r\.jsonl:2: id 'a' appeared on an earlier line"),
    ('{"id": "x", "rubric": ', r"r\.jsonl:2: malformed JSON"),
])
def test_a_bad_rubrics_line_is_named_by_file_and_line(tmp_path, line, message):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"id": "a", "rubric": GOOD}) + "\n" + line + "\n")
    with pytest.raises(DataError, match=message):
        load_rubrics(path)


def test_a_missing_rubrics_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="rubrics file not found"):
        load_rubrics(tmp_path / "nope.jsonl")
