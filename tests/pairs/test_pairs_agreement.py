"""COIG-P's report: pairs per prompt and how often several judges order two answers alike (hand-worked)."""

from mmalign.pairs.agreement import judge_agreement, pairs_per_prompt


def rec(rid, **judges):
    n = len(next(iter(judges.values())))
    return {"id": rid, "candidates": [{"text": f"a{k}", "scores": {j: s[k] for j, s in judges.items()
                                                                    if s[k] is not None}} for k in range(n)]}


def test_two_judges_agreement_counted_over_untied_answer_pairs():
    # prompt p: answers (0,1): x 9>5, y 8>2 agree; (0,2): x 9>1, y 8<9 disagree; (1,2): x 5>1, y 2<9 disagree
    # prompt q: (0,1): x tie -> left out
    records = [rec("p", x=[9, 5, 1], y=[8, 2, 9]), rec("q", x=[4, 4], y=[1, 2])]
    found = judge_agreement(records)
    assert found == {"overall": round(1 / 3, 4), "compared": 3, "pairs": {"x|y": round(1 / 3, 4)}}


def test_three_judges_per_pair_and_unscored_answers_left_out():
    # x,y agree on (0,1); x,z: z did not score answer 1 -> nothing compared; y,z nothing either
    records = [rec("p", x=[9, 5], y=[7, 1], z=[3, None])]
    found = judge_agreement(records)
    assert found["pairs"] == {"x|y": 1.0} and found["compared"] == 1


def test_one_judge_has_no_agreement():
    assert judge_agreement([rec("p", x=[1, 2, 3])]) is None


def test_pairs_per_prompt_counts_prompts_with_none():
    pairs = [{"id": "p#0-1"}, {"id": "p#0-2"}, {"id": "q#1-2"}]
    assert pairs_per_prompt(pairs, prompts=5) == {0: 3, 1: 1, 2: 1}
