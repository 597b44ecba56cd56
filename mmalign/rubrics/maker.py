"""Contrastive rubric generation with rejection sampling, for one preference record (OpenRubrics, CRG).

    maker = RubricMaker(writer, judge, write_template, judge_template, samples=4)
    line = maker.make({"id": "p1", "prompt": ..., "images": [...], "chosen": "A red circle.", "rejected": "..."})
    # {"id", "accepted", "reason", "attempts", "sample", "rubric", "tries": [per attempt: replies, reason]}

One attempt: the writer (a model, `mmalign.judge.generative.Asker`) sees the prompt with the chosen answer
marked preferred and the rejected one marked other (prompts/rubric_write.txt) and writes a rubric; the judge
(the same or another model) then compares the two answers under that rubric (prompts/rubric_pairwise.txt,
ending [[A]] or [[B]]). The attempt is accepted when the judge prefers the chosen answer: P(chosen better),
averaged over the orders that gave a verdict, above 0.5 (a tie, or one order each way, is not agreement).
Otherwise its reason is `disagreed`, `unparsed` (no rubric in the writer's reply) or `no_verdict` (no verdict
in any judge reply). Attempts go on, each with its own seed, until one is accepted or `samples` are spent.

Seeds: attempt k is asked about the record under the id "<id>\\x1f<k>", so `Asker` seeds it with
`derived_seed(seed, id, k, chunk)`: what it writes depends on (seed, id, sample) only, and a resumed run
writes the same rubrics.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..judge.base import Score, derived_seed, mean_or_none
from ..judge.generative import Asker, fill, question_text
from ..judge.parse import parse_verdict
from ..judge.rubric import RubricProblem, parse_rubric, rubric_text

WRITE_PROMPT = "rubric_write.txt"
JUDGE_PROMPT = "rubric_pairwise.txt"
WRITE_NEEDS = ("prompt", "chosen", "rejected")
JUDGE_NEEDS = ("prompt", "rubric", "response_a", "response_b")
# Per attempt and per record; a record's reason is its accepted attempt's, else its last attempt's.
REASONS = ("accepted", "disagreed", "unparsed", "no_verdict")


def attempt_view(record: dict, k: int) -> dict:
    """The record as attempt k asks about it: its id extended, which is what seeds the attempt (see above).
    "\\x1f" is `derived_seed`'s own separator, so the seed equals derived_seed(seed, id, k, chunk)."""
    return {**record, "id": f"{record['id']}\x1f{k}"}


@dataclass
class RubricMaker:
    writer: Asker
    judge: Asker
    write_template: str
    judge_template: str
    samples: int = 4
    orders: int = 2  # 2: the judge sees the pair in both orders; 1: in one order, chosen first or second by seed

    def _orders(self, view: dict) -> list[bool]:
        """Per question to the judge: whether the chosen answer is shown as Response A."""
        if self.orders == 2:
            return [True, False]
        return [derived_seed(self.judge.seed, view["id"], "order") % 2 == 0]  # no fixed position to favour

    def verdict(self, view: dict, rubric: dict) -> tuple[Score, list[list[str]]]:
        """P(chosen better) under `rubric` (orders with a verdict averaged; None when none gave one), replies."""
        question, shown = question_text(view), rubric_text(rubric)
        firsts = self._orders(view)
        pairs = [(view["chosen"], view["rejected"]) if first else (view["rejected"], view["chosen"])
                 for first in firsts]
        prompts = [fill(self.judge_template, prompt=question, rubric=shown, response_a=a, response_b=b)
                   for a, b in pairs]
        replies = self.judge.ask(view, prompts)
        per_order = []
        for first, rs in zip(firsts, replies):
            p_first = mean_or_none([parse_verdict(r) for r in rs])
            per_order.append(p_first if first or p_first is None else 1.0 - p_first)
        return mean_or_none(per_order), replies

    def attempt(self, record: dict, k: int) -> dict:
        view = attempt_view(record, k)
        text = fill(self.write_template, prompt=question_text(record), chosen=record["chosen"],
                    rejected=record["rejected"])
        ((reply, *_),) = self.writer.ask(view, [text])
        seed = derived_seed(self.writer.seed, view["id"], 0) if self.writer.temperature > 0 else None
        tried = {"sample": k, "seed": seed, "rubric_reply": reply}
        try:
            rubric = parse_rubric(reply)
        except RubricProblem as problem:
            return {**tried, "reason": "unparsed", "problem": str(problem), "rubric": None}
        p_chosen, replies = self.verdict(view, rubric)
        reason = "no_verdict" if p_chosen is None else "accepted" if p_chosen > 0.5 else "disagreed"
        return {**tried, "reason": reason, "rubric": rubric, "p_chosen": p_chosen, "verdict_replies": replies}

    def make(self, record: dict) -> dict:
        """The record's part line: its kept rubric (the accepted one, else the last that parsed, else null)."""
        tries = []
        for k in range(self.samples):
            tries.append(self.attempt(record, k))
            if tries[-1]["reason"] == "accepted":
                break
        kept = next((t for t in reversed(tries) if t["rubric"] is not None), {"sample": None, "rubric": None})
        return {"id": record["id"], "accepted": tries[-1]["reason"] == "accepted", "reason": tries[-1]["reason"],
                "attempts": len(tries), "sample": kept["sample"], "rubric": kept["rubric"], "tries": tries}
