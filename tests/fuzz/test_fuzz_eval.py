"""Fuzzing benchmark files and prediction files (mmalign.eval) the way `mmalign eval BENCH --data FILE
--predictions FILE` uses them, in-process: read the questions, read the answers (each accepted format) or the
judgments, score. Every case ends in metrics, or an MMAlignError naming the file (and line) or the problem;
with on_bad_record=skip bad prediction lines are counted."""

from __future__ import annotations

import json

import pytest
from eval_cases import Case, _items, _lines, _question_path
from fuzz_inputs import (
    BAD_LINES,
    EXAMPLES,
    FUZZ,
    bounded,
    data_file,
    dumps,
    expect_clean,
    line_damage,
    near_miss,
    write,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mmalign.errors import MMAlignError
from mmalign.eval import BENCHMARKS, score_predictions
from mmalign.eval.answer_files import read_answers
from mmalign.eval.chair import load_synonyms

LLAVA = {"prompt": "q", "answer_id": "a1", "model_id": "m", "metadata": {}}


HB = {
    "category": "VD",
    "subcategory": "illusion",
    "visual_input": "1",
    "set_id": "0",
    "figure_id": "0",
    "question_id": "0",
    "question": "Is the left line longer?",
    "gt_answer_details": "Equal.",
    "gt_answer": "0",
    "filename": "./hallusion_bench/VD/illusion/0_0.png",
}
MMHAL = {
    "question_type": "attribute",
    "question_topic": "animal",
    "image_id": "abc",
    "image_src": "https://farm.staticflickr.com/1/abc.jpg",
    "image_content": ["Cat", "Sofa"],
    "question": "What colour is the cat?",
    "gt_answer": "Black.",
}
VH = {
    "basic": {"video": "a.mp4", "question": "Is the man left of the car?", "answer": "yes"},
    "hallucination": {"video": "a.mp4", "question": "Is the man right of the car?", "answer": "no"},
    "type": "object_relation",
}
SYNTH_POPE = {
    "id": "random/0-yes",
    "images": ["img/pope-0-0.png"],
    "prompt": "Is there a cross in the image?",
    "subset": "random",
    "truth": {"label": "yes", "kind": "object", "object": "cross", "in_image": "cross"},
}
SYNTH_MULTI = {
    "id": "sequence/0",
    "images": ["img/0.png", "img/1.png"],
    "prompt": "Image1:<image>\nImage2:<image>\nIn Image1, what shape is in the image?",
    "subset": "sequence",
    "truth": {
        "kind": "shape",
        "answer": "cross",
        "distractor_answers": ["square"],
        "target": {"colour": "blue", "shape": "cross"},
        "format": "sequence",
        "n_images": 2,
        "target_index": 0,
    },
}
SYNTH_VIDEO = {
    "id": "object/0/basic",
    "videos": ["vid/0.mp4"],
    "prompt": "Is there a blue cross in the video?",
    "subset": "object",
    "truth": {"label": "yes", "pair": "object/0", "role": "basic"},
}
ANSWER_CASES = {
    "pope": Case(
        "coco_pope_random.json",
        [
            {
                "question_id": 1,
                "image": "COCO_val2014_000000310196.jpg",
                "text": "Is there a dog?",
                "label": "yes",
            },
            {
                "question_id": 2,
                "image": "COCO_val2014_000000310196.jpg",
                "text": "Is there a cat?",
                "label": "no",
            },
        ],
        [
            {"id": "random/1", "answer": "Yes"},
            {"question": "Is there a cat?", "answer": "no"},
            {"question_id": 2, "text": "No", **LLAVA},
        ],
    ),
    "amber": Case(
        "query/query_all.json",
        [
            {"id": 1, "image": "AMBER_1.jpg", "query": "Describe this image."},
            {"id": 2, "image": "AMBER_2.jpg", "query": "Is there a cat in this image?"},
        ],
        [{"id": 1, "response": "A cat on a sofa."}, {"id": 2, "response": "Yes"}],
        {"association": {"cat": ["kitten"]}, "safe_words": [], "noun_extractor": str.split},
    ),
    "hallusionbench": Case(
        "HallusionBench.json",
        [HB, {**HB, "question_id": "1", "gt_answer": "1"}],
        [
            {**HB, "model_prediction": "No."},
            {"id": "VD_illusion_0_0_1", "answer": "yes"},
            {"question_id": 0, "text": "No", **LLAVA},
        ],
    ),
    "mmhal": Case(
        "response_template.json",
        [MMHAL, {**MMHAL, "question": "How many?", "image_path": "x.jpg"}],
        [{**MMHAL, "model_answer": "Black."}, {"id": "1", "answer": "Two."}],
        {"judge": lambda prompt: "Rating: 4"},
    ),
    "videohallucer": Case(
        "object_relation.json",
        [VH],
        [
            {
                **VH,
                "basic": {**VH["basic"], "predict": "Yes"},
                "hallucination": {**VH["hallucination"], "predict": "No"},
            },
            {"id": "object_relation/0/basic", "answer": "yes"},
        ],
    ),
    "chair": Case(
        "chair.jsonl",
        [
            {
                "image_id": 42,
                "image": "COCO_val2014_000000000042.jpg",
                "gt_objects": ["dog", "frisbee"],
                "gt_captions": ["A dog catches a frisbee."],
            }
        ],
        [
            {"image_id": 42, "caption": "A dog with a frisbee."},
            {"overall": {}, "imgToEval": {"42": {"image_id": 42, "caption": "A dog."}}},
        ],
        {"synonyms": ["dog, dogs, puppy", "frisbee, frisbees"]},
    ),
    "synth-pope": Case("questions.jsonl", [SYNTH_POPE], [{"id": "random/0-yes", "answer": "Yes, there is."}]),
    "synth-multi": Case("questions.jsonl", [SYNTH_MULTI], [{"id": "sequence/0", "answer": "A cross."}]),
    "synth-video": Case(
        "questions.jsonl",
        [
            SYNTH_VIDEO,
            {
                **SYNTH_VIDEO,
                "id": "object/0/hallucination",
                "truth": {"label": "no", "pair": "object/0", "role": "hallucination"},
            },
        ],
        [{"id": "object/0/basic", "answer": "yes"}],
    ),
}
ANSWER_TEXT = st.one_of(
    st.sampled_from(
        [
            "Yes",
            "No",
            "Yes.",
            "no, there is not",
            "",
            " ",
            "A cross.",
            "Rating: 4",
            "A dog with a frisbee.",
            "Red",
            "yes" * 1000,
            "\u202eNo",
            "é🙂",
        ]
    ),
    st.text(max_size=20),
)
AMBER_ANNOTATIONS = [
    {"id": 1, "type": "generative", "truth": ["cat", "sofa"], "hallu": ["dog"]},
    {"id": 2, "type": "discriminative-hallucination", "truth": "yes"},
]


def check_answer_benchmark(folder, name, questions, answers, on_bad_record, answer, annotations=None):
    """`mmalign eval NAME --data QUESTIONS --predictions ANSWERS` in-process (files given as bytes), then the
    same questions scored with `answer` to each, so that the scorer meets every truth the reader let in."""
    case = ANSWER_CASES[name]
    data_path = _question_path(folder, name, case, questions)
    if name == "amber":
        write(data_path / "annotations.json", annotations or json.dumps(AMBER_ANNOTATIONS).encode())
    answers_path = write(folder / name / "answers.json", answers)
    questions = expect_clean(BENCHMARKS[name].read_questions, data_path, None)
    if isinstance(questions, MMAlignError):
        assert str(data_path) in str(questions) or name == "amber", str(questions)
        return
    read = expect_clean(
        read_answers,
        [answers_path],
        questions,
        benchmark=name,
        on_bad_record=on_bad_record,
        names=answers_path,
    )
    if not isinstance(read, MMAlignError):
        assert all(n > 0 for n in read.bad.values())
        expect_clean(score_predictions, name, questions, read.predictions, on_bad_record, **case.opts)
    expect_clean(score_predictions, name, questions, {q.id: answer for q in questions}, **case.opts)


@pytest.mark.parametrize("name", sorted(ANSWER_CASES))
@settings(FUZZ, max_examples=max(1, EXAMPLES * 2 // 3))  # 14 benchmarks each
@given(data=st.data())
def test_answer_benchmarks_read_and_score(name, data, folder):
    case = ANSWER_CASES[name]
    check_answer_benchmark(
        folder,
        name,
        questions=data.draw(data_file(_items(case.questions), 3, 1), "questions"),
        annotations=data.draw(data_file(_items(AMBER_ANNOTATIONS), 3), "annotations")
        if name == "amber"
        else None,
        answers=data.draw(data_file(_items(case.answers), 4), "answers"),
        on_bad_record=data.draw(st.sampled_from(["error", "skip"]), "on_bad_record"),
        answer=data.draw(ANSWER_TEXT, "answer"),
    )


MMHAL_Q = json.dumps([MMHAL]).encode()


# The failing examples the fuzzing above found (st.data() tests take no @example): each was a traceback.
@pytest.mark.parametrize(
    "name, questions, answers, on_bad_record, annotations",
    [
        ("pope", _lines(ANSWER_CASES["pope"].questions[0]), b"\x80[]", "error", None),  # UnicodeDecodeError
        ("pope", _lines(ANSWER_CASES["pope"].questions[0]), b"\n\x80null", "skip", None),
        ("synth-pope", b"[" + b"[" * 5000, b"", "error", None),  # RecursionError in the array reader
        (
            "synth-pope",
            _lines(SYNTH_POPE),
            b'{"id": "random/0-yes", "answer": ' + b"9" * 5000 + b"}",
            "error",
            None,
        ),
        (
            "synth-pope",
            _lines({**SYNTH_POPE, "truth": {**SYNTH_POPE["truth"], "kind": []}}),
            b"",
            "skip",
            None,
        ),
        ("amber", json.dumps([{"id": [1], "image": "a.jpg", "query": "q"}]).encode(), b"", "skip", None),
        (
            "amber",
            json.dumps(ANSWER_CASES["amber"].questions).encode(),
            b"",
            "skip",
            json.dumps([{"id": {"a": 1}, "type": "generative", "truth": ["cat"]}]).encode(),
        ),
        ("mmhal", json.dumps([{**MMHAL, "image_content": None}]).encode(), b"", "skip", None),
        ("chair", _lines({**ANSWER_CASES["chair"].questions[0], "gt_captions": 5}), b"", "skip", None),
    ],
    ids=[
        "answers-not-utf8",
        "answer-line-not-utf8",
        "deep-array",
        "5000-digit-number",
        "truth-kind-list",
        "amber-id-list",
        "amber-annotation-id-dict",
        "mmhal-image-content-null",
        "chair-gt-captions-int",
    ],
)
def test_eval_crashes_found_by_fuzzing(name, questions, answers, on_bad_record, annotations, folder):
    check_answer_benchmark(folder, name, questions, answers, on_bad_record, "Yes", annotations)


@FUZZ
@given(
    content=st.one_of(
        st.binary(max_size=64),
        BAD_LINES,
        st.lists(st.text(max_size=20), max_size=4).map(lambda s: "\n".join(s).encode()),
    )
)
@example(content=b"dog, dogs\n\xff\xfe")
def test_chair_synonyms_file(content, folder):
    path = write(folder / "synonyms.txt", content)
    synonyms = expect_clean(load_synonyms, path, names=path)
    if not isinstance(synonyms, MMAlignError):
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in synonyms.items())


@FUZZ
@given(
    content=st.one_of(
        near_miss({"cat": ["kitten"], "dog": ["puppy"]}).map(dumps).flatmap(line_damage), BAD_LINES
    )
)
@example(content=b'{"cat": "kitten"}')
@example(content=b'[["cat"]]')
def test_amber_relation_file(content, folder):
    """AMBER's relation.json (association=FILE, or DATA/relation.json), read when generative answers are
    scored; safe_words.txt beside it."""
    base = folder / "amber-relation"
    (base / "query").mkdir(parents=True, exist_ok=True)
    write(base / "query" / "query_all.json", json.dumps(ANSWER_CASES["amber"].questions).encode())
    write(base / "annotations.json", json.dumps(AMBER_ANNOTATIONS).encode())
    with bounded():
        questions = BENCHMARKS["amber"].read_questions(base, None)
    answers = {"1": "A kitten.", "2": "Yes"}
    (base / "relation.json").unlink(missing_ok=True)  # absent (was a FileNotFoundError traceback)
    expect_clean(
        score_predictions,
        "amber",
        questions,
        answers,
        data_path=str(base),
        noun_extractor=str.split,
        names=base / "relation.json",
    )
    path = write(base / "relation.json", content)
    write(base / "safe_words.txt", content)
    expect_clean(
        score_predictions,
        "amber",
        questions,
        answers,
        association=str(path),
        noun_extractor=str.split,
        names=path,
    )
    expect_clean(
        score_predictions, "amber", questions, answers, data_path=str(base), noun_extractor=str.split
    )
