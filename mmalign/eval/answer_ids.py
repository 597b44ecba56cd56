"""Which question an answer line of a foreign answer file belongs to (used by `answer_formats`).

mmalign's own files name the question id. Other tools name questions their own way: LLaVA's scripts by
the `question_id` of their question file, POPE's and MMHal-Bench's official scorers by position, the
VideoHallucer scorer by the pair record itself. `IdContext` holds what these mappings need from the
benchmark's questions, plus the running positions of the file being read.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from ..errors import DataError
from ..io import numbered_jsonl
from .base import Question, require


class LineProblem(Exception):
    """An answer line that cannot be placed; `reason` is the counter key under on_bad_record=skip."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


class Ignored(Exception):
    """An answer line the official scorer leaves out too (LLaVA answers of a POPE split not read)."""


# VideoHallucer's scorer names its output `<qa_type>_<model>.json`; qa_type -> subset folder.
# Longest first, so "factdet_x.json" is not taken for "fact".
VIDEOHALLUCER_FILE_PREFIXES = (
    ("external_nonfactual", "external_nonfactual"), ("external_factual", "external_factual"),
    ("object_relation", "object_relation"), ("semantic_detail", "semantic_detail"),
    ("fact_detect", "fact_detect"), ("interaction", "interaction"), ("factdet", "fact_detect"),
    ("obj_rel", "object_relation"), ("temporal", "temporal"), ("semantic", "semantic_detail"),
    ("nonfact", "external_nonfactual"), ("fact", "external_factual"),
)


def load_llava_questions(path: str | Path) -> dict[str, str]:
    """{question_id: category} from LLaVA's POPE question file (llava_pope_test.jsonl)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: LLaVA question file not found")
    categories = {}
    for lineno, obj in numbered_jsonl(path):
        require(obj, ("question_id", "category"), f"{path}:{lineno}")
        categories[str(obj["question_id"])] = str(obj["category"])
    return categories


class IdContext:
    """What the answer formats need to turn a line into a question id, for one benchmark's questions."""

    def __init__(self, benchmark: str | None, questions: list[Question] | None = None,
                 known_ids=None, llava_questions: dict[str, str] | None = None):
        self.benchmark = benchmark
        self.questions = list(questions or [])
        if questions is not None:
            self.known = {q.id for q in self.questions}
        else:
            self.known = None if known_ids is None else {str(i) for i in known_ids}
        self.llava_questions = llava_questions
        self.path = Path(".")
        self._position: dict[str, int] = defaultdict(int)
        self._by_split: dict[str, list[Question]] = defaultdict(list)
        self._by_question_id: dict[str, list[str]] = defaultdict(list)
        for q in self.questions:
            self._by_split[q.subset].append(q)
            if benchmark == "pope":
                self._by_question_id[q.id.split("/", 1)[1]].append(q.id)
        self._pairs: dict[tuple, list[str]] | None = None
        self._used_pairs: set[str] = set()

    def start_file(self, path: str | Path) -> None:
        """Positions count from the start of every file (one official file per split or subset)."""
        self.path = Path(path)
        self._position.clear()

    # -- position-matched formats (POPE evaluate.py, LLaVA's eval_pope.py, MMHal-Bench) --------------

    def file_split(self) -> str | None:
        """The one POPE split this file answers: the only split read, or the one its name contains."""
        splits = list(self._by_split)
        if len(splits) == 1:
            return splits[0]
        named = [s for s in splits if s in self.path.name]
        return named[0] if len(named) == 1 else None

    def next_in_split(self, split: str) -> Question:
        questions = self._by_split.get(split, [])
        index = self._position[split]
        self._position[split] += 1
        if index >= len(questions):
            raise LineProblem("unknown_id", f"answer {index + 1} of split {split!r}, which has only "
                                            f"{len(questions)} question(s) in the data read")
        return questions[index]

    def next_in_file(self) -> Question:
        index = self._position[""]
        self._position[""] += 1
        if index >= len(self.questions):
            raise LineProblem("unknown_id", f"record {index} is past the {len(self.questions)} question(s) "
                                            "of the data read")
        return self.questions[index]

    # -- POPE answered through LLaVA's scripts -------------------------------------------------------

    def pope_llava_id(self, obj: dict, lineno: int) -> str:
        qid = str(obj["question_id"])
        if self.llava_questions is not None:
            # LLaVA's eval_pope.py: the answers whose question has category C, in file order, are
            # matched one by one with the lines of coco_pope_C.json.
            category = self.llava_questions.get(qid)
            if category is None:
                raise LineProblem("unknown_id", f"question_id {qid} is not in the LLaVA question file")
            if category not in self._by_split:
                raise Ignored
            return self.next_in_split(category).id
        if "category" in obj:
            return f"{obj['category']}/{qid}"
        split = self.file_split()
        if split is not None:
            return f"{split}/{qid}"
        candidates = self._by_question_id.get(qid, [])
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            return qid  # reported as an unknown id
        raise DataError(
            f"{self.path}:{lineno}: question_id {qid} is in several POPE splits ({', '.join(candidates)}); "
            "name the split in the answer file's name, add 'category' to each line, score one split "
            "file at a time, or pass LLaVA's question file (--llava-questions llava_pope_test.jsonl)")

    # -- HallusionBench answered through a LLaVA-style question file ---------------------------------

    def hallusionbench_llava_id(self, question_id) -> str:
        qid = str(question_id)
        if self.known is not None and qid in self.known:
            return qid
        # A question file built from HallusionBench.json numbers its questions by position.
        if qid.isdigit() and int(qid) < len(self.questions):
            return self.questions[int(qid)].id
        return qid

    # -- VideoHallucer's own output: the pair records with "predict" added ---------------------------

    def videohallucer_pair(self, pair: dict) -> str:
        if self._pairs is None:
            self._pairs = defaultdict(list)
            sides: dict[str, dict[str, Question]] = defaultdict(dict)
            for q in self.questions:
                sides[q.truth["pair"]][q.truth["side"]] = q
            for pair_id, both in sides.items():
                if len(both) == 2:
                    self._pairs[_pair_key(both["basic"].truth, both["hallucination"].truth)].append(pair_id)
        key = _pair_key(pair["basic"], pair["hallucination"])
        candidates = [p for p in self._pairs.get(key, []) if p not in self._used_pairs]
        if not candidates:
            if self._pairs.get(key):
                raise LineProblem("duplicate_id", "this pair is answered twice")
            raise LineProblem("unknown_id", "no pair of the data read has these videos and questions")
        # factual and non-factual share videos and basic questions; the file name says which subset.
        subset = next((s for prefix, s in VIDEOHALLUCER_FILE_PREFIXES if self.path.name.startswith(prefix)), None)
        preferred = [p for p in candidates if p.split("/", 1)[0] == subset]
        chosen = (preferred or candidates)[0]
        self._used_pairs.add(chosen)
        return chosen


def _pair_key(basic: dict, hallucination: dict) -> tuple:
    return (str(basic.get("video")), str(basic.get("question")),
            str(hallucination.get("video")), str(hallucination.get("question")))
