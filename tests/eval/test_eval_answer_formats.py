"""One test per accepted answer-file format and benchmark, plus recognition errors (mixed, none, forced)."""

import json

import pytest

from mmalign.cli import eval as eval_cli
from mmalign.errors import DataError
from mmalign.eval import BENCHMARKS, read_answers, score_predictions


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_json(path, obj):
    path.write_text(json.dumps(obj, indent=2))
    return path


def pope_questions(tmp_path, splits=("random", "adversarial")):
    for split in splits:
        write_jsonl(tmp_path / f"coco_pope_{split}.json", [
            {"question_id": i + 1, "image": f"{i}.jpg", "text": "Is there a dog in the image?", "label": lab}
            for i, lab in enumerate(["yes", "no", "no"])])
    return BENCHMARKS["pope"].read_questions(tmp_path, tmp_path)


def read(tmp_path, bench, questions, *files, **kw):
    return read_answers(files, questions, benchmark=bench, **kw)


# -- POPE ---------------------------------------------------------------------------------------------

def test_pope_official_answer_file_matches_by_position(tmp_path):
    questions = pope_questions(tmp_path, ("random",))
    path = write_jsonl(tmp_path / "answers.json", [
        {"question": "is there a dog in the image?", "answer": "Yes."},
        {"question": "is there a dog in the image?", "answer": "No, there is not."},
        {"question": "is there a dog in the image?", "answer": "NO"}])
    result = read(tmp_path, "pope", questions, path)
    assert result.formats == {str(path): "pope"}
    assert result.predictions == {"random/1": "Yes.", "random/2": "No, there is not.", "random/3": "NO"}
    # yes->TP, "No, there is not"->TN, "NO" (not an official no-word)->FP: acc 2/3, P 1/2, R 1/1
    m = score_predictions("pope", questions, result.predictions)
    assert m["overall"]["accuracy"] == pytest.approx(200 / 3)
    assert m["overall"]["precision"] == pytest.approx(50)


def test_pope_official_answer_files_pick_their_split_by_name(tmp_path):
    questions = pope_questions(tmp_path)
    files = [write_jsonl(tmp_path / f"answers_{split}.jsonl", [{"answer": a} for a in ("Yes", "No", "No")])
             for split in ("random", "adversarial")]
    result = read(tmp_path, "pope", questions, *files)
    assert len(result.predictions) == 6 and result.predictions["adversarial/1"] == "Yes"
    bare = write_jsonl(tmp_path / "answers.jsonl", [{"answer": "Yes"}])
    with pytest.raises(DataError, match=r"answers.jsonl:1: POPE's evaluate.py matches answers by position"):
        read(tmp_path, "pope", questions, bare)


def test_pope_llava_lines(tmp_path):
    questions = pope_questions(tmp_path)
    # with a category on the line, or a file named after its split
    tagged = write_jsonl(tmp_path / "llava.jsonl", [
        {"question_id": 1, "prompt": "?", "text": "Yes", "answer_id": "x", "model_id": "m", "category": "random"},
        {"question_id": 1, "prompt": "?", "text": "No", "answer_id": "y", "model_id": "m", "category": "adversarial"}])
    assert read(tmp_path, "pope", questions, tagged).predictions == {"random/1": "Yes", "adversarial/1": "No"}
    # question ids restart in every split: without a split the line is ambiguous, and says what to do
    plain = write_jsonl(tmp_path / "llava_plain.jsonl", [{"question_id": 2, "text": "No"}])
    with pytest.raises(DataError, match=r"llava_plain.jsonl:1: question_id 2 is in several POPE splits"):
        read(tmp_path, "pope", questions, plain)
    # LLaVA's own eval_pope.py: the question file gives each question_id its category; the answers of a
    # category are matched in order with that split file's lines (ids 101.. are LLaVA's, not POPE's).
    llava_q = write_jsonl(tmp_path / "llava_pope_test.jsonl", [
        {"question_id": 100 + i, "image": "x.jpg", "text": "?", "category": c}
        for i, c in enumerate(["adversarial", "random", "adversarial", "popular"])])
    answers = write_jsonl(tmp_path / "llava_answers.jsonl", [
        {"question_id": 100 + i, "text": t} for i, t in enumerate(["Yes", "No", "No, there is not", "Yes"])])
    result = read(tmp_path, "pope", questions, answers, llava_questions=llava_q)
    assert result.predictions == {"adversarial/1": "Yes", "random/1": "No", "adversarial/2": "No, there is not"}
    assert result.ignored == 1  # "popular" was not read, as eval_pope.py skips splits it has no file for


# -- AMBER --------------------------------------------------------------------------------------------

def amber_questions(tmp_path):
    (tmp_path / "query").mkdir()
    ann = [{"id": 1, "type": "discriminative-relation", "truth": "yes"},
           {"id": 2, "type": "relation", "truth": "no"}, {"id": 3, "type": "relation", "truth": "no"}]
    write_json(tmp_path / "query" / "query_all.json",
               [{"id": a["id"], "image": f"AMBER_{a['id']}.jpg", "query": "Is there contact?"} for a in ann])
    write_json(tmp_path / "annotations.json", ann)
    return BENCHMARKS["amber"].read_questions(tmp_path, tmp_path)


def test_amber_official_response_list_and_relation_type(tmp_path):
    questions = amber_questions(tmp_path)
    assert [q.subset for q in questions] == ["relation"] * 3  # type "relation" counts as relation
    path = write_json(tmp_path / "responses.json",
                      [{"id": 1, "response": "Yes"}, {"id": 2, "response": "No."}, {"id": 3, "response": "No"}])
    result = read(tmp_path, "amber", questions, path)
    assert result.formats[str(path)] == "amber"
    m = score_predictions("amber", questions, result.predictions, data_path=tmp_path)
    # exact "Yes"/"No" only: right {1, 3} -> 2/3.001 = 66.6; answered No {3}, right -> 1/1.001 = 99.9;
    # gold No {2, 3}, found {3} -> 1/2.001 = 50.0; F1 = 2*.999*.5/(.999+.5+.0001) = 66.6
    assert m["subsets"]["relation"] == {"accuracy": 66.6, "precision": 99.9, "recall": 50.0, "f1": 66.6, "n": 3}


def test_amber_llava_and_mmalign_lines(tmp_path):
    questions = amber_questions(tmp_path)
    llava = write_jsonl(tmp_path / "llava.jsonl", [{"question_id": i, "text": "Yes"} for i in (1, 2, 3)])
    assert read(tmp_path, "amber", questions, llava).predictions == {"1": "Yes", "2": "Yes", "3": "Yes"}
    ours = write_jsonl(tmp_path / "ours.jsonl", [{"id": i, "answer": "No"} for i in (1, 2, 3)])
    assert read(tmp_path, "amber", questions, ours).formats[str(ours)] == "mmalign"


# -- HallusionBench -----------------------------------------------------------------------------------

def hb_records():
    rows = [("VD", "ocr", "0", "0", "0", "1", "1"), ("VD", "ocr", "0", "1", "0", "2", "0"),
            ("VS", "chart", "1", "0", "0", "0", "1")]
    return [{"category": c, "subcategory": s, "set_id": si, "figure_id": f, "question_id": q, "visual_input": v,
             "gt_answer": g, "question": f"Q{i}?", "gt_answer_details": "d", "sample_note": "n",
             "filename": None if v == "0" else f"./hallusion_bench/{c}/{s}/{si}_{f}.png"}
            for i, (c, s, si, f, q, v, g) in enumerate(rows)]


def test_hallusionbench_official_result_file_and_llava_lines(tmp_path):
    data = write_json(tmp_path / "HallusionBench.json", hb_records())
    questions = BENCHMARKS["hallusionbench"].read_questions(data, tmp_path)
    # HallusionBench_result.json: the records (gt fields may be absent, as in the repo's sample) + prediction
    result_records = [{k: v for k, v in r.items() if k not in ("gt_answer", "filename")} for r in hb_records()]
    for r, a in zip(result_records, ["Yes", "No", "Yes"]):
        r["model_prediction"] = a
    official = write_json(tmp_path / "HallusionBench_result.json", result_records)
    result = read(tmp_path, "hallusionbench", questions, official)
    assert result.predictions == {"VD_ocr_0_0_0": "Yes", "VD_ocr_0_1_0": "No", "VS_chart_1_0_0": "Yes"}
    # LLaVA lines: question_id = mmalign id, or the position in HallusionBench.json
    llava = write_jsonl(tmp_path / "llava.jsonl", [{"question_id": "VD_ocr_0_0_0", "text": "Yes"},
                                                  {"question_id": 1, "text": "No"}, {"question_id": "2", "text": "x"}])
    assert read(tmp_path, "hallusionbench", questions, llava).predictions == {
        "VD_ocr_0_0_0": "Yes", "VD_ocr_0_1_0": "No", "VS_chart_1_0_0": "x"}


# -- MMHal-Bench --------------------------------------------------------------------------------------

def test_mmhal_official_response_file_keeps_the_template_order(tmp_path):
    records = [{"question_type": "attribute", "question_topic": "t", "image_id": str(i),
                "image_src": f"https://x/{i}.jpg", "image_content": ["Dog"], "question": f"What is {i}?",
                "gt_answer": "A dog.", "model_answer": ""} for i in range(3)]
    data = write_json(tmp_path / "response_template.json", records)
    questions = BENCHMARKS["mmhal"].read_questions(data, None)
    answered = [dict(r, model_answer=f"answer {i}") for i, r in enumerate(records)]
    path = write_json(tmp_path / "responses.json", answered)
    assert read(tmp_path, "mmhal", questions, path).predictions == {str(i): f"answer {i}" for i in range(3)}
    write_json(path, [answered[1], answered[0], answered[2]])
    with pytest.raises(DataError, match=r"responses.json:\d+: record 0 asks 'What is 1\?'"):
        read(tmp_path, "mmhal", questions, path)
    llava = write_jsonl(tmp_path / "llava.jsonl", [{"question_id": i, "text": "A dog."} for i in range(3)])
    assert read(tmp_path, "mmhal", questions, llava).predictions["2"] == "A dog."


# -- CHAIR --------------------------------------------------------------------------------------------

def test_chair_caption_files(tmp_path):
    data = write_jsonl(tmp_path / "chair.jsonl", [{"image_id": 7, "image": "7.jpg", "gt_objects": ["dog"]},
                                                 {"image_id": 9, "image": "9.jpg", "gt_objects": ["cat"]}])
    questions = BENCHMARKS["chair"].read_questions(data, tmp_path)
    coco = write_json(tmp_path / "captions.json", [{"image_id": 7, "caption": "A dog."},
                                                   {"image_id": 9, "caption": "A cat."}])
    assert read(tmp_path, "chair", questions, coco).predictions == {"7": "A dog.", "9": "A cat."}
    lisa = write_json(tmp_path / "cap_file.json", {"overall": {"CIDEr": 1.0}, "imgToEval": {
        "7": {"image_id": 7, "caption": "A dog.", "CIDEr": 1.0}, "9": {"image_id": 9, "caption": "A cat."}}})
    result = read(tmp_path, "chair", questions, lisa)
    assert result.formats[str(lisa)] == "chair-imgtoeval" and result.predictions["9"] == "A cat."
    llava = write_jsonl(tmp_path / "llava.jsonl", [{"question_id": 7, "text": "A dog."}])
    assert read(tmp_path, "chair", questions, llava).predictions == {"7": "A dog."}


# -- VideoHallucer ------------------------------------------------------------------------------------

def test_videohallucer_official_output_matched_by_pair(tmp_path):
    pairs = {"external_factual": "Should we add salt?", "external_nonfactual": "Should we add sand?"}
    for subset, halluc in pairs.items():
        (tmp_path / subset).mkdir()
        write_json(tmp_path / subset / f"{subset}.json", [
            {"basic": {"video": "a.mp4", "question": "Should we stir?", "answer": "yes"},
             "hallucination": {"video": "a.mp4", "question": halluc, "answer": "no"}, "type": "x"}])
    questions = BENCHMARKS["videohallucer"].read_questions(tmp_path, None)
    outputs = []
    for subset, prefix in (("external_factual", "fact"), ("external_nonfactual", "nonfact")):
        records = json.loads((tmp_path / subset / f"{subset}.json").read_text())
        records[0]["basic"]["predict"] = f"Yes ({prefix})"
        records[0]["hallucination"]["predict"] = "No."
        outputs.append(write_json(tmp_path / f"{prefix}_MyModel.json", records))
    result = read(tmp_path, "videohallucer", questions, *outputs)
    assert result.predictions == {
        "external_factual/0/basic": "Yes (fact)", "external_factual/0/hallucination": "No.",
        "external_nonfactual/0/basic": "Yes (nonfact)", "external_nonfactual/0/hallucination": "No."}
    llava = write_jsonl(tmp_path / "llava.jsonl", [{"question_id": "external_factual/0/basic", "text": "yes"}])
    assert read(tmp_path, "videohallucer", questions, llava).predictions == {"external_factual/0/basic": "yes"}


# -- recognition --------------------------------------------------------------------------------------

def test_mixed_or_unknown_formats_name_the_line_and_the_formats(tmp_path):
    questions = pope_questions(tmp_path, ("random",))
    mixed = write_jsonl(tmp_path / "mixed.jsonl", [{"id": "random/1", "answer": "Yes"},
                                                  {"question_id": 2, "text": "No"}])
    with pytest.raises(DataError, match=r"mixed.jsonl:2: a llava record in a file of mmalign records.*"
                                        r"accepted: mmalign .*llava .*pope"):
        read(tmp_path, "pope", questions, mixed, on_bad_record="skip")
    unknown = write_jsonl(tmp_path / "unknown.jsonl", [{"qid": 1, "pred": "Yes"}])
    with pytest.raises(DataError, match=r"unknown.jsonl:1: not an answer format pope reads; accepted: mmalign"):
        read(tmp_path, "pope", questions, unknown)
    # an AMBER response list is not a POPE format
    amber = write_json(tmp_path / "amber.json", [{"id": 1, "response": "Yes"}])
    with pytest.raises(DataError, match=r"amber.json:2: not an answer format pope reads"):
        read(tmp_path, "pope", questions, amber)


def test_forced_format_checks_every_record_against_it(tmp_path):
    questions = pope_questions(tmp_path, ("random",))
    path = write_jsonl(tmp_path / "a.jsonl", [{"question_id": 1, "text": "Yes", "id": "x", "answer": "No"}])
    with pytest.raises(DataError, match="a.jsonl:1: unknown question id 'x'"):  # recognised as mmalign
        read(tmp_path, "pope", questions, path)
    assert read(tmp_path, "pope", questions, path, answer_format="llava").predictions == {"random/1": "Yes"}
    with pytest.raises(DataError, match="not one of amber's"):
        read(tmp_path, "amber", questions, path, answer_format="pope")


def test_cli_scores_llava_answers_and_records_the_format(tmp_path):
    questions = pope_questions(tmp_path, ("random",))
    assert len(questions) == 3
    answers = write_jsonl(tmp_path / "llava.jsonl", [{"question_id": i + 1, "text": t}
                                                    for i, t in enumerate(["Yes", "No", "No"])])
    out = tmp_path / "out"
    assert eval_cli.main(["pope", "--predictions", str(answers), "--data", str(tmp_path / "coco_pope_random.json"),
                          "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["answer_formats"] == {str(answers): "llava"}
    assert metrics["overall"]["accuracy"] == 100.0
