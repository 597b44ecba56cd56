"""CRBench, COIG-P's Chinese reward benchmark (M-A-P 2025; multimodal-art-projection/COIG-P).

File: HF `m-a-p/COIG-CRBench` (the evaluator loads `SiweiWu/COIG-CRBench`, split `test`) as JSON lines or a
JSON array, one item `{"prompt", "chosen", "rejected", "domain"}` — the fields `Chinese_Reward_Benchmark/
evaluator.py` and `calculate.py` read (their local form, a JSON export of that split, is our assumption).
Domains are named in Chinese (对话 chat, 逻辑推理 logic, 数学 math, 代码 code, 角色扮演 role, 小说续写 novel);
subsets use the English names, unknown domains keep theirs. Ids: `id` when present, else the position.

Metrics, as `calculate.py`: accuracy per domain and overall accuracy over all items (micro). Scalar judges:
right when chosen > rejected (`evaluator.py` writes "B" otherwise, so a tie is wrong). Generative judges:
the official prompt shows the chosen response as A, always, and an answer without a verdict counts "B"
(wrong): the chosen-first order decides; the swapped order is reported beside it.
"""

from __future__ import annotations

from pathlib import Path

from .base import Question, read_json_items, require, unique_ids
from .reward_metrics import RewardRules, score_reward

DOMAINS = {"对话": "chat", "逻辑推理": "logic", "数学": "math", "代码": "code", "角色扮演": "role", "小说续写": "novel"}
ORDER = ("chat", "logic", "math", "code", "role", "novel")
RULES = RewardRules(order="chosen-first", scalar_tie=0.0, undecided=0.0)


def read_questions(data_path: str | Path, root: str | Path | None = None) -> list[Question]:
    questions = []
    for index, (lineno, obj) in enumerate(read_json_items(data_path)):
        where = f"{data_path}:{lineno}"
        require(obj, ("prompt", "chosen", "rejected", "domain"), where)
        domain = obj["domain"][0] if isinstance(obj["domain"], list) and obj["domain"] else obj["domain"]
        questions.append(Question(
            id=str(obj.get("id", index)), media=(), prompt=str(obj["prompt"]), media_type="none",
            truth={"chosen": str(obj["chosen"]), "rejected": str(obj["rejected"])},
            subset=DOMAINS.get(str(domain), str(domain))))
    return unique_ids(questions, data_path)


def score(questions: list[Question], predictions: dict[str, dict]) -> dict:
    return score_reward("crbench", questions, predictions, RULES, "official rules (chosen shown first)", ORDER)
