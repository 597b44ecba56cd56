"""The answer-file formats `mmalign eval --predictions` reads, recognised by the fields of each record.

Each format names the fields that identify it, the benchmarks it belongs to, and how a record becomes
(question id, answer) pairs. Sources:
- mmalign: our own `{"id", "answer"}` lines (`OUT/predictions.jsonl`).
- llava: haotian-liu/LLaVA `llava/eval/model_vqa_loader.py` (and model_vqa.py) answer lines
  `{"question_id", "prompt", "text", "answer_id", "model_id", "metadata"}`.
- pope: RUCAIBox/POPE README + `evaluate.py`: lines `{"question", "answer"}`, matched by order with one
  split's label file.
- amber: junyangwang0410/AMBER README + `inference.py`: a JSON list of `{"id", "response"}`.
- hallusionbench: tianyi-lab/HallusionBench `evaluation.py`: HallusionBench.json's records with the model's
  answer in `model_prediction` (`HallusionBench_result_sample.json`).
- mmhal: llava-rlhf/LLaVA-RLHF `Eval/eval_gpt_mmhal.py --response`: response_template.json's 96 records
  with `model_answer` filled in, in the template's order.
- videohallucer: patrick-tssn/VideoHallucer `evaluations/evaluation_utils.py`: `<qa_type>_<model>.json`,
  the subset's pair records with `predict` added to `basic` and `hallucination`.
- coco-captions: the COCO caption results list `[{"image_id", "caption"}]` that CHAIR scripts read.
- chair-imgtoeval: LisaAnne/Hallucination `utils/chair.py --cap_file`: coco-caption's output,
  `{"overall": {...}, "imgToEval": {id: {"image_id", "caption", ...}}}`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import DataError, MMAlignError
from .answer_ids import IdContext, LineProblem

Extract = Callable[[dict, IdContext, int], list[tuple[str, Any]]]
_HB_KEY = ("category", "subcategory", "set_id", "figure_id", "question_id")


@dataclass(frozen=True)
class AnswerFormat:
    name: str
    fields: tuple[str, ...]  # all present in every record of this format
    answer_field: str
    benchmarks: frozenset[str] | None  # None: every benchmark
    extract: Extract
    description: str
    absent: tuple[str, ...] = ()  # fields whose presence rules this format out

    def fits(self, obj: Any) -> bool:
        return (isinstance(obj, dict) and all(f in obj for f in self.fields)
                and not any(f in obj for f in self.absent))

    def accepts(self, benchmark: str | None) -> bool:
        return self.benchmarks is None or benchmark in self.benchmarks

    def missing(self, obj: dict) -> list[str]:
        return [f for f in self.fields if f not in obj]


def _plain_id(value, field: str) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise LineProblem("bad_type", f"{field!r} must be a string or an integer, got {type(value).__name__}")
    return str(value)


def _mmalign(obj, ctx, lineno):
    return [(_plain_id(obj["id"], "id"), obj["answer"])]


def _llava(obj, ctx, lineno):
    qid = _plain_id(obj["question_id"], "question_id")
    if ctx.benchmark == "pope":
        return [(ctx.pope_llava_id(obj, lineno), obj["text"])]
    if ctx.benchmark == "hallusionbench":
        return [(ctx.hallusionbench_llava_id(qid), obj["text"])]
    return [(qid, obj["text"])]


def _pope(obj, ctx, lineno):
    split = ctx.file_split()
    if split is None:
        raise DataError(f"{ctx.path}:{lineno}: POPE's evaluate.py matches answers by position with one split "
                        "file; pass that split file as --data, or name the split in the answer file's name")
    return [(ctx.next_in_split(split).id, obj["answer"])]


def _amber(obj, ctx, lineno):
    return [(_plain_id(obj["id"], "id"), obj["response"])]


def _hallusionbench(obj, ctx, lineno):
    return [("_".join(str(obj[k]) for k in _HB_KEY), obj["model_prediction"])]


def _mmhal(obj, ctx, lineno):
    question = ctx.next_in_file()
    # eval_gpt_mmhal.py reads question and image contents from the response file itself; we read them
    # from --data, so a record out of order would be judged against the wrong question.
    if "question" in obj and str(obj["question"]).strip() != question.prompt.strip():
        raise LineProblem("out_of_order", f"record {question.id} asks {obj['question']!r}, but question "
                                          f"{question.id} of the data is {question.prompt!r}")
    return [(question.id, obj["model_answer"])]


def _videohallucer(obj, ctx, lineno):
    for side in ("basic", "hallucination"):
        if not isinstance(obj[side], dict) or "predict" not in obj[side]:
            raise LineProblem("missing_field", f"missing field {side}.predict")
    pair = ctx.videohallucer_pair(obj)
    return [(f"{pair}/basic", obj["basic"]["predict"]),
            (f"{pair}/hallucination", obj["hallucination"]["predict"])]


def _coco_captions(obj, ctx, lineno):
    return [(_plain_id(obj["image_id"], "image_id"), obj["caption"])]


def _imgtoeval(obj, ctx, lineno):
    entries = obj["imgToEval"]
    if not isinstance(entries, dict):
        raise LineProblem("bad_type", "'imgToEval' must be an object of {key: {image_id, caption}}")
    pairs = []
    for key, entry in entries.items():
        if not isinstance(entry, dict) or "image_id" not in entry or "caption" not in entry:
            raise LineProblem("missing_field", f"imgToEval[{key!r}] needs 'image_id' and 'caption'")
        pairs.append((_plain_id(entry["image_id"], "image_id"), entry["caption"]))
    return pairs


# Recognition tries these in order; the first whose fields a record has is the file's format.
FORMATS: tuple[AnswerFormat, ...] = (
    AnswerFormat("mmalign", ("id", "answer"), "answer", None, _mmalign,
                 'mmalign lines {"id", "answer"}'),
    AnswerFormat("llava", ("question_id", "text"), "text", None, _llava,
                 'LLaVA answer lines {"question_id", "text"} (model_vqa_loader.py)'),
    AnswerFormat("pope", ("answer",), "answer", frozenset({"pope", "synth-pope"}), _pope,
                 'POPE evaluate.py lines {"question", "answer"}, in the split file\'s order',
                 absent=("id", "question_id")),
    AnswerFormat("amber", ("id", "response"), "response", frozenset({"amber"}), _amber,
                 'AMBER inference.py list [{"id", "response"}]'),
    AnswerFormat("hallusionbench", (*_HB_KEY, "model_prediction"), "model_prediction",
                 frozenset({"hallusionbench"}), _hallusionbench,
                 "HallusionBench evaluation.py records with 'model_prediction'"),
    AnswerFormat("mmhal", ("question", "model_answer"), "model_answer", frozenset({"mmhal"}), _mmhal,
                 "MMHal-Bench eval_gpt_mmhal.py response file (template records with 'model_answer')"),
    AnswerFormat("videohallucer", ("basic", "hallucination"), "predict", frozenset({"videohallucer"}),
                 _videohallucer, "VideoHallucer evaluation_utils.py output (pairs with 'predict')"),
    AnswerFormat("coco-captions", ("image_id", "caption"), "caption", frozenset({"chair"}), _coco_captions,
                 'COCO caption results [{"image_id", "caption"}]'),
    AnswerFormat("chair-imgtoeval", ("imgToEval",), "caption", frozenset({"chair"}), _imgtoeval,
                 "CHAIR chair.py --cap_file (coco-caption output with 'imgToEval')"),
)
FORMAT_NAMES = tuple(f.name for f in FORMATS)


def formats_for(benchmark: str | None) -> list[AnswerFormat]:
    return [f for f in FORMATS if f.accepts(benchmark)]


def get_format(name: str) -> AnswerFormat:
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise MMAlignError(f"unknown answer format {name!r}; choose one of: {', '.join(FORMAT_NAMES)}")


def recognise(obj: Any, benchmark: str | None) -> AnswerFormat | None:
    return next((f for f in formats_for(benchmark) if f.fits(obj)), None)


def describe(benchmark: str | None) -> str:
    return "; ".join(f"{f.name} ({f.description})" for f in formats_for(benchmark))
