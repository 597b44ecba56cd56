"""CHAIR (Rohrbach et al., EMNLP 2018; original LisaAnne/Hallucination utils/chair.py): object
hallucination in image descriptions, over the 80 COCO object categories.

Questions file (JSON array or JSON lines): `{"image_id", "image", "gt_objects": [...],
"gt_captions": [...]}`. The original takes the ground truth as the union of the COCO instance
annotations and the objects named in the reference captions; put the annotated category names in
`gt_objects` and the reference captions (optional) in `gt_captions`. `root` is the image folder.
Prompt: "Please describe this image in detail." (the one lmms-eval uses; the original scored captioners
and had no prompt).

Scoring needs the synonym list (`synonyms=` a path or list of lines): one line per category,
comma-separated, the category name first, then its synonyms, like the original `data/synonyms.txt`
(the user supplies it; lines split on ", " as the original does). Words are lower-cased, tokenised,
singularised, the original's two-word phrases merged (its fixed list, "baby/adult <animal>",
"passenger jet/train", "bow tie" -> tie, "toilet seat" -> toilet; other multi-word synonyms never match,
as in the original), "seat" dropped when "toilet" is in the caption, then mapped to categories. The
original tokenises with NLTK and singularises with pattern.en; here words are runs of letters and the
default singulariser is a small suffix rule (`simple_singular`); pass `singularize=` for another.

CHAIR_i = hallucinated object mentions / object mentions; CHAIR_s = captions with at least one
hallucinated object / captions (percent, lower is better). `recall` = ground-truth categories
mentioned / ground-truth categories, as lmms-eval adds (not in the original).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import DataError, MMAlignError
from ..io import read_utf8
from .base import (
    Question,
    answers_for,
    default_root,
    media_path,
    read_json_items,
    require,
    safe_div,
    unique_ids,
)

PROMPT = "Please describe this image in detail."
# utils/chair.py's hard-coded rules: these two-word phrases are one word, qualifiers before an animal or
# a vehicle are dropped (else "baby" fires "person"), and pattern.en singularises "glass" to "glas".
_COCO_DOUBLE_WORDS = (
    "motor bike", "motor cycle", "air plane", "traffic light", "street light", "traffic signal", "stop light",
    "fire hydrant", "stop sign", "parking meter", "suit case", "sports ball", "baseball bat", "baseball glove",
    "tennis racket", "wine glass", "hot dog", "cell phone", "mobile phone", "teddy bear", "hair drier",
    "potted plant", "bow tie", "laptop computer", "stove top oven", "home plate", "train track",
)
_ANIMALS = ("bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "animal", "cub")
DOUBLE_WORDS = {
    **{w: w for w in _COCO_DOUBLE_WORDS},
    **{f"{age} {animal}": animal for age in ("baby", "adult") for animal in _ANIMALS},
    "passenger jet": "jet", "passenger train": "train",
    "bow tie": "tie", "toilet seat": "toilet", "wine glas": "wine glass",
}


def simple_singular(word: str) -> str:
    """A small stand-in for pattern.en's singularize: enough for COCO object nouns."""
    irregular = {"people": "person", "men": "man", "women": "woman", "children": "child", "mice": "mouse",
                 "knives": "knife", "leaves": "leaf", "shelves": "shelf", "feet": "foot", "teeth": "tooth"}
    if word in irregular:
        return irregular[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def load_synonyms(source: str | Path | Iterable[str]) -> dict[str, str]:
    """{word or phrase: category} from a synonyms file (or its lines), read as utils/chair.py reads it.

    A line is stripped and split on ", " (comma and one space), the category first. So, as in the
    original, an entry after a double space (" cheesecake" in the real file's cake line) keeps its
    leading space and never matches a word; blank lines and empty entries are passed over.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"{path}: synonyms file not found")
        lines = read_utf8(path).splitlines()
    else:
        lines = list(source)
    mapping: dict[str, str] = {}
    for line in lines:
        words = [w for w in line.strip().split(", ") if w]
        for word in words:
            mapping[word] = words[0]
    return mapping


def caption_objects(caption: str, synonyms: dict[str, str],
                    singularize: Callable[[str], str] = simple_singular) -> list[str]:
    """The COCO category of every object mention in `caption`, in order, repeats kept (utils/chair.py)."""
    words = [singularize(w) for w in re.findall(r"[a-z]+", caption.lower())]
    merged, i = [], 0
    while i < len(words):
        pair = " ".join(words[i:i + 2])
        if i + 1 < len(words) and pair in DOUBLE_WORDS:
            merged.append(DOUBLE_WORDS[pair])
            i += 2
        else:
            merged.append(words[i])
            i += 1
    if "toilet" in merged and "seat" in merged:  # "the seat of the toilet" is not a chair
        merged = [w for w in merged if w != "seat"]
    return [synonyms[w] for w in merged if w in synonyms]


def read_questions(data_path: str | Path, root: str | Path | None = None) -> list[Question]:
    data_path = Path(data_path)
    image_root = default_root(data_path, root)
    questions = []
    for lineno, obj in read_json_items(data_path):
        where = f"{data_path}:{lineno}"
        require(obj, ("image_id", "image", "gt_objects"), where)
        if not isinstance(obj["gt_objects"], list):
            raise DataError(f"{where}: 'gt_objects' must be a list of COCO category names")
        if not isinstance(obj.get("gt_captions", []), list):
            raise DataError(f"{where}: 'gt_captions' must be a list of captions")
        questions.append(Question(
            id=str(obj["image_id"]),
            media=(media_path(image_root, obj["image"], where),),
            prompt=PROMPT,
            truth={"gt_objects": [str(x) for x in obj["gt_objects"]],
                   "gt_captions": [str(x) for x in obj.get("gt_captions", [])]},
        ))
    return unique_ids(questions, data_path)


def score(questions: list[Question], predictions: dict[str, str], synonyms=None,
          singularize: Callable[[str], str] | None = None) -> dict:
    if synonyms is None:
        raise MMAlignError("CHAIR needs the COCO synonym list: pass synonyms=FILE (category, synonym, ...)")
    mapping = synonyms if isinstance(synonyms, dict) else load_synonyms(synonyms)
    singular = singularize or simple_singular
    answers = answers_for(questions, predictions)
    mentions = hallucinated = hallucinated_captions = gt_total = gt_recalled = 0
    for question, answer in zip(questions, answers):
        gt = {mapping.get(o.lower(), o.lower()) for o in question.truth["gt_objects"]}
        for reference in question.truth["gt_captions"]:
            gt.update(caption_objects(reference, mapping, singular))
        objects = caption_objects(answer, mapping, singular)
        wrong = sum(o not in gt for o in objects)
        mentions += len(objects)
        hallucinated += wrong
        hallucinated_captions += wrong > 0
        gt_total += len(gt)
        gt_recalled += len(gt & set(objects))
    overall = {
        "chair_i": 100 * safe_div(hallucinated, mentions),
        "chair_s": 100 * safe_div(hallucinated_captions, len(questions)),
        "recall": 100 * safe_div(gt_recalled, gt_total),
        "n": len(questions), "mentions": mentions, "hallucinated_mentions": hallucinated,
    }
    return {"benchmark": "chair", "scoring": "official rule (CHAIR, Rohrbach et al.); recall as in lmms-eval",
            "overall": overall, "subsets": {}}
