"""Fuzzing reward benchmarks with judgment files, prediction files and LLaVA question files (mmalign.eval),
in-process, as `mmalign eval` reads them: every case ends in metrics, or an MMAlignError naming the file (and
line); with on_bad_record=skip bad lines are counted."""

from __future__ import annotations

import pytest
from eval_cases import Case, _items, _lines, _question_path
from fuzz_inputs import EXAMPLES, FUZZ, data_file, expect_clean, jsonl_file, write
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mmalign.errors import MMAlignError
from mmalign.eval import BENCHMARKS, score_predictions
from mmalign.eval.answer_ids import load_llava_questions
from mmalign.eval.predictions import read_predictions
from mmalign.eval.reward_judgments import read_judgments

REWARD_CASES = {
    "rewardbench": Case(
        "reward-bench.jsonl",
        [{"id": 0, "prompt": "q", "chosen": "good", "rejected": "bad", "subset": "alpacaeval-easy"}],
        [],
    ),
    "crbench": Case(
        "crbench.json", [{"prompt": "你好", "chosen": "好", "rejected": "坏", "domain": "对话"}], []
    ),
    "vlrewardbench": Case(
        "vl.jsonl",
        [{"id": "wildvision-3", "query": "q", "response": ["aa", "bb"], "human_ranking": [1, 0]}],
        [],
    ),
    "videorewardbench": Case(
        "vrb.jsonl",
        [
            {
                "id": "0",
                "dimension": "long_perception",
                "video": "v/1.mp4",
                "prompt": "Describe.",
                "chosen": "a",
                "rejected": "b",
            }
        ],
        [],
    ),
    "synth-reward": Case(
        "questions.jsonl",
        [
            {
                "id": "0",
                "images": ["img/0.png"],
                "prompt": "What shape?",
                "subset": "shape",
                "truth": {"chosen": "A cross.", "rejected": "A square.", "reference": "A cross."},
            }
        ],
        [],
    ),
}
# Judgments as read_judgments returns them (check_judgment's output).
JUDGED = [
    {"chosen": 1.0, "rejected": 0.0},
    {"chosen": None, "rejected": 2.0},
    {"chosen": 1.0, "rejected": 1.0},
    {"chosen_first": 1.0, "chosen_second": 0.0},
    {"chosen_first": None, "chosen_second": 0.5},
    {"chosen_first": 0.5, "chosen_second": None},
    {"chosen": float("nan"), "rejected": 0.0},
]
JUDGMENTS = [
    {"id": "0", "chosen": 2.5, "rejected": 1.0},
    {"id": "0", "chosen_first": 1.0, "chosen_second": 0.5},
    {"id": "wildvision-3", "chosen_first": 0.0, "chosen_second": None},
]



def check_reward_benchmark(folder, name, questions, judgments, on_bad_record, judged):
    """`mmalign eval NAME --data QUESTIONS --predictions JUDGMENTS` in-process, then every item `judged`."""
    case = REWARD_CASES[name]
    data_path = _question_path(folder, name, case, questions)
    judgments_path = write(folder / name / "judgments.jsonl", judgments)
    questions = expect_clean(BENCHMARKS[name].read_questions, data_path, None, names=data_path)
    if isinstance(questions, MMAlignError):
        return
    ids = {q.id for q in questions}
    result = expect_clean(read_judgments, judgments_path, ids, on_bad_record, names=judgments_path, line=True)
    if not isinstance(result, MMAlignError):
        assert all(n > 0 for n in result[1].values())
        expect_clean(score_predictions, name, questions, result[0], on_bad_record)
    expect_clean(score_predictions, name, questions, {q.id: judged for q in questions})


@pytest.mark.parametrize("name", sorted(REWARD_CASES))
@settings(FUZZ, max_examples=max(1, EXAMPLES * 2 // 3))  # 14 benchmarks each
@given(data=st.data())
def test_reward_benchmarks_read_and_score(name, data, folder):
    case = REWARD_CASES[name]
    check_reward_benchmark(
        folder,
        name,
        questions=data.draw(data_file(_items(case.questions), 3, 1), "questions"),
        judgments=data.draw(jsonl_file(_items(JUDGMENTS)), "judgments"),
        on_bad_record=data.draw(st.sampled_from(["error", "skip"]), "on_bad_record"),
        judged=data.draw(st.sampled_from(JUDGED), "judgment"),
    )


def test_reward_judgment_crash_found_by_fuzzing(folder):
    judgments = _lines({"id": "0", "chosen": 10**400, "rejected": 1.0})  # OverflowError in float()
    check_reward_benchmark(
        folder, "rewardbench", _lines(REWARD_CASES["rewardbench"].questions[0]), judgments, "skip", JUDGED[0]
    )


@FUZZ
@given(
    content=jsonl_file(_items([{"id": "a", "answer": "yes"}, {"id": 7, "answer": "no"}])),
    on_bad_record=st.sampled_from(["error", "skip"]),
)
@example(content=b'{"id": "a", "answer": "x"}\n{"id": "a", "answer": "y"}\n', on_bad_record="skip")
def test_read_predictions(content, on_bad_record, folder):
    path = write(folder / "predictions.jsonl", content)
    result = expect_clean(read_predictions, path, None, on_bad_record, names=path, line=True)
    if not isinstance(result, MMAlignError):
        predictions, bad = result
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in predictions.items())
        assert on_bad_record == "skip" or not bad


@FUZZ
@given(
    content=jsonl_file(
        _items([{"question_id": 1, "image": "a.jpg", "text": "Is there a dog?", "category": "random"}])
    )
)
def test_load_llava_questions(content, folder):
    path = write(folder / "llava_pope_test.jsonl", content)
    expect_clean(load_llava_questions, path, names=path, line=True)


