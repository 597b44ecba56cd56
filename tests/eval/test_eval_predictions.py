import json

import pytest

from mmalign.errors import DataError
from mmalign.eval import BENCHMARKS, Question, answer_questions, read_predictions, run_eval


def write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize("bad_line, problem", [
    ('{"id": "b", "answer": "yes"', "malformed JSON"),
    ('{"id": "b"}', "missing field 'answer'"),
    ('{"id": "zzz", "answer": "no"}', "unknown question id 'zzz'"),
    ('{"id": "a", "answer": "no"}', "answered twice"),
    ('["b", "yes"]', "expected a JSON object"),
])
def test_bad_prediction_lines_name_file_and_line(tmp_path, bad_line, problem):
    path = write(tmp_path / "preds.jsonl", '{"id": "a", "answer": "Yes."}\n' + bad_line + "\n")
    with pytest.raises(DataError, match=rf"preds.jsonl:2: .*{problem}"):
        read_predictions(path, ["a", "b"])


def test_skip_counts_bad_lines(tmp_path):
    path = write(tmp_path / "preds.jsonl", '{"id": "a", "answer": "Yes."}\n{oops\n{"id": 7, "answer": "no"}\n')
    predictions, bad = read_predictions(path, ["a", "7"], on_bad_record="skip")
    assert predictions == {"a": "Yes.", "7": "no"}
    assert bad == {"malformed_json": 1}


def test_malformed_annotation_files_name_file_and_line(tmp_path):
    pope = write(tmp_path / "coco_pope_random.json",
                 '{"question_id": 1, "image": "a.jpg", "text": "?", "label": "yes"}\n'
                 '{"question_id": 2, "image": "b.jpg", "text": "?", "label": "yes"}\n'
                 '{"question_id": 3, "image": "c.jpg", "text": "?" "label": "no"}\n')
    with pytest.raises(DataError, match=r"coco_pope_random.json:3: malformed JSON"):
        BENCHMARKS["pope"].read_questions(pope, tmp_path)
    pope.write_text('{"question_id": 1, "image": "a.jpg", "text": "?"}\n')
    with pytest.raises(DataError, match=r"coco_pope_random.json:1: missing field\(s\) 'label'"):
        BENCHMARKS["pope"].read_questions(pope, tmp_path)
    pope.write_text('{"question_id": 1, "image": "../a.jpg", "text": "?", "label": "no"}\n')
    with pytest.raises(DataError, match=r"coco_pope_random.json:1: media path"):
        BENCHMARKS["pope"].read_questions(pope, tmp_path)
    # a JSON array: the item's own line is named
    pairs = [{"basic": {"video": "a.mp4", "question": "q", "answer": "yes"},
              "hallucination": {"video": "a.mp4", "question": "q", "answer": "no"}},
             {"basic": {"video": "b.mp4", "question": "q", "answer": "yes"}}]
    vh = write(tmp_path / "temporal.json", json.dumps(pairs, indent=2))
    second_item_line = json.dumps(pairs, indent=2).splitlines().index("  {", 2) + 1
    with pytest.raises(DataError, match=rf"temporal.json:{second_item_line}: missing field\(s\) 'hallucination'"):
        BENCHMARKS["videohallucer"].read_questions(vh, tmp_path)
    write(vh, '[{"basic": 1},\n {"basic": 2,}]')
    with pytest.raises(DataError, match=r"temporal.json:2: malformed JSON"):
        BENCHMARKS["videohallucer"].read_questions(vh, tmp_path)


def make_questions(n):
    return [Question(id=f"q{i}", media=(), prompt=f"Is there a dog {i}?", truth={"label": "yes"}, subset="random")
            for i in range(n)]


def test_resumable_writer_does_not_ask_answered_questions_again(tmp_path):
    questions = make_questions(5)
    path = tmp_path / "out" / "predictions.jsonl"
    asked = []

    def crashing(batch):
        asked.extend(q.id for q in batch)
        if len(asked) > 2:
            raise KeyboardInterrupt  # the run dies while answering the second batch
        return ["Yes." for _ in batch]

    with pytest.raises(KeyboardInterrupt):
        answer_questions(questions, crashing, path, batch_size=2)
    # the process also died in the middle of writing a line
    with open(path, "a") as fh:
        fh.write('{"id": "q2", "ans')
    asked.clear()

    def fake(batch):
        asked.extend(q.id for q in batch)
        return ["No." for _ in batch]

    answers = answer_questions(questions, fake, path, batch_size=2)
    assert asked == ["q2", "q3", "q4"]
    assert answers == {"q0": "Yes.", "q1": "Yes.", "q2": "No.", "q3": "No.", "q4": "No."}
    lines = path.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["q0", "q1", "q2", "q3", "q4"]
    asked.clear()
    answer_questions(questions, fake, path)  # everything answered: nothing asked
    assert asked == []


def test_run_eval_writes_predictions_and_metrics(tmp_path):
    questions = make_questions(4)
    metrics = run_eval("pope", questions, lambda batch: ["Yes." if q.id != "q3" else "No" for q in batch],
                       tmp_path / "run")
    # all labels yes: TP 3, FN 1 -> accuracy 75, precision 100, recall 75, F1 2*.75/1.75
    assert metrics["overall"]["accuracy"] == pytest.approx(75)
    assert metrics["overall"]["f1"] == pytest.approx(100 * 1.5 / 1.75)
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["overall"] == metrics["overall"]
    assert len((tmp_path / "run" / "predictions.jsonl").read_text().splitlines()) == 4
