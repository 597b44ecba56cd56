"""AMBER (Wang et al., 2023; official repo junyangwang0410/AMBER): generative and discriminative tasks.

Files (the official `data/` folder): `query/query_all.json` (`[{"id", "image", "query"}]`),
`annotations.json` (indexed by id; generative items carry `truth`/`hallu` object lists,
discriminative ones `truth`: "yes"|"no" and a `type`; any type other than generative and the four
named discriminative ones, e.g. the 689 items of type "relation", counts as relation, and any truth other
than "yes" as "no", as in the official script), `relation.json` (word associations) and
`safe_words.txt`. `data_path` is that folder or one query file inside `<data>/query/`; `root` is the
image folder. Scoring needs `relation.json` and `safe_words.txt` only for generative questions; pass
`data_path=` (the CLI does) or `association=`/`safe_words=` directly.

Discriminative scoring follows the official `inference.py`: a response counts only when it is exactly
"Yes" or "No" (so "Yes." and "yes, there is" are neither). "No" is the positive class: precision =
correct "No" / answered "No", recall = correct "No" / gold "No". Counters start at 0.001 as in the
official `metrics.txt`, every value is rounded to 0.1 and F1 is computed from the rounded precision and
recall with the official epsilon in the denominator (0.001 for existence, 0.0001 elsewhere), so numbers
match the official printout digit for digit.

Generative scoring (CHAIR, Cover, Hal, Cog) needs nouns: `noun_extractor(text) -> list[str]` returns
lemmatised nouns (official: NLTK word_tokenize + pos_tag "NN*" + WordNetLemmatizer; that is the default
when NLTK and its data are installed). The official script also counts a noun as a synonym when spaCy
`en_core_web_lg` similarity exceeds 0.8; pass `similarity(a, b) -> bool` for that, otherwise only exact
matches count and the scoring label says so.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ..errors import DataError, MMAlignError
from ..io import loads, read_utf8
from .base import Question, answers_for, default_root, media_path, read_json_items, require

DISCRIMINATIVE_SUBSETS = {
    "discriminative-hallucination": "existence",
    "discriminative-attribute-state": "state",
    "discriminative-attribute-number": "number",
    "discriminative-attribute-action": "action",
    "discriminative-relation": "relation",
}
_F1_EPS = {"existence": 0.001}  # the official script uses 0.001 here and 0.0001 everywhere else


def _locate(data_path: Path) -> tuple[Path, Path]:
    if data_path.is_dir():
        return data_path / "query" / "query_all.json", data_path / "annotations.json"
    for candidate in (data_path.parent.parent / "annotations.json", data_path.parent / "annotations.json"):
        if candidate.is_file():
            return data_path, candidate
    raise DataError(f"{data_path}: annotations.json not found next to the query folder")


def read_questions(data_path: str | Path, root: str | Path | None = None) -> list[Question]:
    data_path = Path(data_path)
    query_path, annotation_path = _locate(data_path)
    annotations = {}
    for lineno, obj in read_json_items(annotation_path):
        where = f"{annotation_path}:{lineno}"
        require(obj, ("id", "type", "truth"), where)
        _check_id(obj["id"], where)
        if obj["type"] == "generative":
            for key in ("truth", "hallu"):
                words = obj.get(key, [])
                if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                    raise DataError(f"{where}: '{key}' of a generative item must be a list of object names")
        annotations[obj["id"]] = obj
    image_root = default_root(data_path, root)
    questions = []
    for lineno, obj in read_json_items(query_path):
        where = f"{query_path}:{lineno}"
        require(obj, ("id", "image", "query"), where)
        ann = annotations.get(_check_id(obj["id"], where))
        if ann is None:
            raise DataError(f"{where}: id {obj['id']!r} has no entry in {annotation_path}")
        if ann["type"] == "generative":
            subset, truth = "generative", {"truth": list(ann["truth"]), "hallu": list(ann.get("hallu", []))}
        else:
            # inference.py's final `else` counts every type it does not name (the real file has 689
            # items of type "relation" beside "discriminative-relation") as a relation question, and
            # every truth other than "yes" as "no".
            subset = DISCRIMINATIVE_SUBSETS.get(str(ann["type"]), "relation")
            truth = {"truth": "yes" if ann["truth"] == "yes" else "no", "type": str(ann["type"])}
        questions.append(Question(id=str(obj["id"]), media=(media_path(image_root, obj["image"], where),),
                                  prompt=str(obj["query"]), truth=truth, subset=subset))
    return questions


def _check_id(value, where: str):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise DataError(f"{where}: 'id' must be an integer or a string, got {type(value).__name__}")
    return value


def _discriminative_table(questions: list[Question], answers: list[str]) -> dict[str, dict]:
    # Integer counters per official name: correct/num over all questions, no_* over gold "no",
    # ans_no_* over answered "No".
    counts: dict[str, Counter] = {}
    for question, response in zip(questions, answers):
        c = counts.setdefault(question.subset, Counter())
        gold = question.truth["truth"]
        c["num"] += 1
        c["correct"] += (gold == "yes" and response == "Yes") or (gold == "no" and response == "No")
        if gold == "no":
            c["no_num"] += 1
            c["no_correct"] += response == "No"
        if response == "No":
            c["ans_no_num"] += 1
            c["ans_no_correct"] += gold == "no"
    if not counts:
        return {}
    table = {name: _rates(c, _F1_EPS.get(name, 0.0001), 1) for name, c in counts.items()}
    attribute = [counts[s] for s in ("state", "number", "action") if s in counts]
    if attribute:
        # The official attribute figures add three counters that each started at 0.001.
        table["attribute"] = _rates(sum(attribute, Counter()), 0.0001, 3)
    table["discriminative"] = _rates(sum(counts.values(), Counter()), 0.0001, 1)
    return table


def _rates(c: Counter, eps: float, n_counters: int) -> dict:
    start = 0.001 * n_counters  # official metrics.txt starts every denominator at 0.001
    precision = round(c["ans_no_correct"] / (c["ans_no_num"] + start) * 100, 1)
    recall = round(c["no_correct"] / (c["no_num"] + start) * 100, 1)
    return {
        "accuracy": round(c["correct"] / (c["num"] + start) * 100, 1),
        "precision": precision,
        "recall": recall,
        "f1": round(2 * (precision / 100) * (recall / 100) / (precision / 100 + recall / 100 + eps) * 100, 1),
        "n": c["num"],
    }


def _first_owner(noun: str, pairs: list[tuple[str, int]], same: Callable[[str, str], bool]) -> int | None:
    return next((owner for word, owner in pairs if same(noun, word)), None)


def _generative_table(questions, answers, association, safe_words, noun_extractor, similarity) -> dict:
    vocabulary = set(association) | {w for words in association.values() for w in words}
    safe = set(safe_words)
    total = Counter()
    for question, response in zip(questions, answers):
        truth, hallu = question.truth["truth"], question.truth["hallu"]
        # (word, index of the annotated object it stands for): associations first, then the objects
        # themselves, in the official order, so the first match picks the same object as inference.py.
        truth_pairs = [(w, i) for i, t in enumerate(truth) for w in association.get(t, [])]
        truth_pairs += [(t, i) for i, t in enumerate(truth)]
        hallu_pairs = [(w, i) for i, t in enumerate(hallu) for w in association.get(t, [])]
        hallu_pairs += [(t, i) for i, t in enumerate(hallu)]
        covered, cog = set(), set()
        nouns = [n for n in noun_extractor(response) if n in vocabulary]
        hallucinated = 0
        for noun in nouns:
            if noun in safe:
                continue
            owner = _first_owner(noun, truth_pairs, str.__eq__)
            if owner is not None:
                covered.add(owner)
                continue
            owner = _first_owner(noun, hallu_pairs, str.__eq__)
            if owner is not None:
                cog.add(owner)
            if similarity is not None:
                owner = _first_owner(noun, hallu_pairs, similarity)
                if owner is not None:
                    cog.add(owner)
                owner = _first_owner(noun, truth_pairs, similarity)
                if owner is not None:
                    covered.add(owner)
                    continue
            hallucinated += 1
        total.update(mentions=len(nouns), hallucinated=hallucinated, truth=len(truth), covered=len(covered),
                     hallu=len(hallu), cog=len(cog), responses=1, clean=hallucinated == 0)
    return {
        "chair": round(total["hallucinated"] / (total["mentions"] + 0.001) * 100, 1),
        "cover": round(total["covered"] / (total["truth"] + 0.001) * 100, 1),
        "hal": round(100 - total["clean"] / (total["responses"] + 0.001) * 100, 1),
        "cog": round(total["cog"] / (total["hallu"] + 0.001) * 100, 1),
        "n": total["responses"],
    }


def nltk_nouns(text: str) -> list[str]:
    """The official noun extraction (needs `nltk` with punkt, the POS tagger and WordNet data)."""
    try:
        import nltk
        from nltk.stem import WordNetLemmatizer
    except ImportError:
        raise MMAlignError("AMBER generative scoring needs nouns: install nltk (and its punkt, "
                           "averaged_perceptron_tagger and wordnet data) or pass noun_extractor=") from None
    lemmatizer = WordNetLemmatizer()
    return [lemmatizer.lemmatize(w) for w, pos in nltk.pos_tag(nltk.word_tokenize(text)) if pos.startswith("NN")]


def _resources(data_path, association, safe_words) -> tuple[dict, list[str]]:
    base = None
    if data_path is not None:
        base = Path(data_path) if Path(data_path).is_dir() else Path(data_path).parent.parent
    if isinstance(association, (str, Path)):
        association = _read_association(Path(association))
    if isinstance(safe_words, (str, Path)):
        safe_words = _read_text(Path(safe_words), "safe words file").splitlines()
    if association is None:
        if base is None:
            raise MMAlignError("AMBER generative scoring needs relation.json: pass data_path= or association=")
        association = _read_association(base / "relation.json")
    if safe_words is None:
        path = base / "safe_words.txt" if base is not None else None
        safe_words = _read_text(path, "safe words file").splitlines() if path and path.is_file() else []
    return association, list(safe_words)


def _read_text(path: Path, what: str) -> str:
    if not path.is_file():
        raise DataError(f"{path}: {what} not found")
    return read_utf8(path)


def _read_association(path: Path) -> dict[str, list[str]]:
    """relation.json: {object: [associated words]}."""
    try:
        association = loads(_read_text(path, "AMBER relation file (relation.json)"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(association, dict) or not all(
            isinstance(words, list) and all(isinstance(w, str) for w in words)
            for words in association.values()):
        raise DataError(f"{path}: must be an object of {{object: [associated words]}}")
    return association


def score(questions: list[Question], predictions: dict[str, str], data_path=None, association=None,
          safe_words=None, noun_extractor=None, similarity=None) -> dict:
    answers = answers_for(questions, predictions)
    gen = [(q, a) for q, a in zip(questions, answers) if q.subset == "generative"]
    disc = [(q, a) for q, a in zip(questions, answers) if q.subset != "generative"]
    subsets = _discriminative_table([q for q, _ in disc], [a for _, a in disc])
    overall = {k: v for k, v in subsets.pop("discriminative", {}).items() if k != "n"}
    scoring = "official rule (AMBER inference.py)"
    if gen:
        association, safe_words = _resources(data_path, association, safe_words)
        extractor = noun_extractor or nltk_nouns
        subsets["generative"] = _generative_table([q for q, _ in gen], [a for _, a in gen], association,
                                                  safe_words, extractor, similarity)
        overall.update({k: v for k, v in subsets["generative"].items() if k != "n"})
        scoring += "; nouns: " + getattr(extractor, "__name__", "custom")
        scoring += "; synonyms: " + ("custom similarity" if similarity else "exact match only (no spaCy)")
    overall["n"] = len(questions)
    return {"benchmark": "amber", "scoring": scoring, "overall": overall, "subsets": subsets,
            "units": "percent, rounded to 0.1 as the official script prints"}
