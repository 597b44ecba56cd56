"""Reward benchmarks: each official (or assumed) layout read from a small file, every metric against values
worked out by hand, with ties, missing judgments, no verdicts and both orders of a pairwise judge."""

import json

import pytest

from mmalign.cli.main import main
from mmalign.errors import DataError
from mmalign.eval import BENCHMARKS, score_predictions
from mmalign.eval.reward_judgments import check_judgment


def write_lines(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def scalar(c, r):
    return {"chosen": c, "rejected": r}


def pairwise(first, second):
    return {"chosen_first": first, "chosen_second": second}


def judged(items):
    return {str(k): check_judgment({"id": str(k), **v}, "test") for k, v in items.items()}


# ------------------------------------------------------------------------------------------ RewardBench

RB_SUBSETS = ["alpacaeval-easy", "alpacaeval-easy", "mt-bench-easy", "mt-bench-hard", "xstest-should-refuse",
              "math-prm", "hep-python"]


@pytest.fixture
def rewardbench_file(tmp_path):
    rows = [{"id": i, "prompt": f"q{i}", "chosen": "good", "rejected": "bad", "chosen_model": "m1",
             "rejected_model": "m2", "subset": s} for i, s in enumerate(RB_SUBSETS)]
    return write_lines(tmp_path / "reward-bench.jsonl", rows)


def test_rewardbench_scalar_sections_weighted_by_the_official_counts(rewardbench_file):
    bench = BENCHMARKS["rewardbench"]
    qs = bench.read_questions(rewardbench_file)
    j = judged({0: scalar(2, 1), 1: scalar(1, 1), 2: scalar(3, 0), 3: scalar(0, 3), 4: scalar(0.5, 0.25),
                5: scalar(1, 2), 6: scalar(2, 1)})
    m = score_predictions(bench, qs, j)
    sub = {k: v["accuracy"] for k, v in m["subsets"].items()}
    assert sub == {"alpacaeval-easy": 50.0, "mt-bench-easy": 100.0, "mt-bench-hard": 0.0,
                   "xstest-should-refuse": 100.0, "math-prm": 0.0, "hep-python": 100.0}  # the tie (item 1) is wrong
    o = m["overall"]
    assert o["chat"] == pytest.approx((50 * 100 + 100 * 28) / 128)  # 60.9375
    assert o["chat_hard"] == 0 and o["safety"] == 100
    assert o["reasoning"] == pytest.approx(100 * 164 / (984 + 164))  # math-prm weighs 984
    assert o["score"] == pytest.approx((60.9375 + 0 + 100 + 16400 / 1148) / 4)
    assert o["accuracy"] == pytest.approx(400 / 7) and o["ties"] == 1 and o["n"] == 7


def test_rewardbench_pairwise_averages_both_orders_and_no_verdict_is_half(rewardbench_file):
    bench = BENCHMARKS["rewardbench"]
    qs = bench.read_questions(rewardbench_file)
    j = judged({0: pairwise(1, 1), 1: pairwise(1, 0), 2: pairwise(None, 1), 3: pairwise(0.5, 0),
                4: pairwise(0, 0), 5: pairwise(0.8, 0.9)})  # item 6 never judged
    with pytest.raises(DataError, match="no prediction for 1 question"):
        score_predictions(bench, qs, j)
    m = score_predictions(bench, qs, j, "skip")
    assert m["missing_answers"] == 1
    # item values: 1, .5, (.5 + 1)/2, (.5 + 0)/2, 0, 1
    assert m["values"] == {"0": 1.0, "1": 0.5, "2": 0.75, "3": 0.25, "4": 0.0, "5": 1.0}
    o = m["overall"]
    assert (o["chat"], o["chat_hard"], o["safety"], o["reasoning"]) == (75.0, 25.0, 0.0, 100.0)
    assert o["score"] == 50.0 and o["accuracy"] == pytest.approx(350 / 6)
    assert o["accuracy_chosen_first"] == 50.0 and o["accuracy_chosen_second"] == 50.0
    assert o["consistency"] == 50.0  # items 0, 4 and 5 pick the same response in both orders
    assert o["no_verdict"] == 1 and o["ties"] == 1


# --------------------------------------------------------------------------------------------- CRBench

def test_crbench_reads_the_json_array_and_lets_the_chosen_first_order_decide(tmp_path):
    rows = [{"prompt": "你好", "chosen": "好", "rejected": "坏", "domain": "对话"},
            {"prompt": "1+1", "chosen": "2", "rejected": "3", "domain": "数学"},
            {"prompt": "2+2", "chosen": "4", "rejected": "5", "domain": ["数学"]},
            {"prompt": "code", "chosen": "a", "rejected": "b", "domain": "代码"},
            {"prompt": "?", "chosen": "a", "rejected": "b", "domain": "其他"}]
    path = tmp_path / "crbench.json"
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    bench = BENCHMARKS["crbench"]
    qs = bench.read_questions(path)
    assert [q.subset for q in qs] == ["chat", "math", "math", "code", "其他"]
    j = judged({0: pairwise(1, 0), 1: pairwise(None, 1), 2: pairwise(0.5, 1), 3: pairwise(1, 1), 4: pairwise(0, 1)})
    m = score_predictions(bench, qs, j)
    assert {k: v["accuracy"] for k, v in m["subsets"].items()} == {"chat": 100.0, "math": 0.0, "code": 100.0,
                                                                   "其他": 0.0}
    o = m["overall"]
    assert o["accuracy"] == 40.0 and o["accuracy_chosen_second"] == 80.0 and o["consistency"] == 20.0
    tie = score_predictions(bench, qs[:1], judged({0: scalar(1.5, 1.5)}))
    assert tie["overall"]["accuracy"] == 0.0 and tie["overall"]["ties"] == 1  # evaluator.py: not > is "B"
    del rows[3]["domain"]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    with pytest.raises(DataError, match=r"crbench.json:\d+: missing field\(s\) 'domain'"):
        bench.read_questions(path)


# --------------------------------------------------------------------------------------- VL-RewardBench

def test_vlrewardbench_parity_order_categories_and_macro_accuracy(tmp_path):
    rows = [  # (responses, human_ranking): the total length's parity decides which response is shown first
        {"id": "mathverse_12", "query": "q", "response": ["ab", "c"], "human_ranking": [0, 1]},  # odd: swapped
        {"id": "wildvision-3", "query": "q", "response": ["aa", "bb"], "human_ranking": [1, 0]},  # even
        {"id": "RLHF-V_7", "query": "q", "response": ["x", "yy"], "human_ranking": [1, 0]},  # odd, chosen first
        {"id": "povid_2", "query": "q", "response": ["a", "b"], "human_ranking": [0, 1], "image_path": "p/2.png"}]
    path = write_lines(tmp_path / "vl.jsonl", rows)
    bench = BENCHMARKS["vlrewardbench"]
    qs = bench.read_questions(path)
    assert [q.truth["chosen_shown_first"] for q in qs] == [False, False, True, True]
    assert [q.subset for q in qs] == ["reasoning", "general", "hallucination", "general"]
    assert qs[0].media[0].endswith("images/mathverse_12.jpg") and qs[3].media[0].endswith("p/2.png")
    assert (qs[1].truth["chosen"], qs[1].truth["rejected"]) == ("bb", "aa")
    j = judged({"mathverse_12": pairwise(1, 0), "wildvision-3": pairwise(0, 1), "RLHF-V_7": pairwise(None, 1),
                "povid_2": pairwise(1, 1)})
    m = score_predictions(bench, qs, j)
    assert m["values"] == {"mathverse_12": 0.0, "wildvision-3": 1.0, "RLHF-V_7": 0.0, "povid_2": 1.0}
    assert m["overall"]["macro_accuracy"] == pytest.approx(100 / 3)  # (0 + 100 + 0) / 3
    assert m["overall"]["accuracy"] == 50.0
    rows[2]["human_ranking"] = [0, 0]
    write_lines(path, rows)
    with pytest.raises(DataError, match=r"vl.jsonl:3: 'human_ranking' must be \[0, 1\] or \[1, 0\]"):
        bench.read_questions(path)


# ------------------------------------------------------------------------------------- VideoRewardBench

def test_videorewardbench_needs_both_orders_and_pools_items(tmp_path):
    rows = [{"id": "v1", "dimension": "long_perception", "video": "v/1.mp4", "prompt": "Describe.",
             "chosen": "a", "rejected": "b"},
            {"id": "v2", "dimension": "short_perception", "videos": ["v/2.mp4"], "question": "Q?",
             "chosen": "a", "rejected": "b"},
            {"id": "v3", "dimension": "short_perception", "video": "v/3.mp4", "query": "Q?", "chosen": "a",
             "rejected": "b"}]
    path = write_lines(tmp_path / "vrb.jsonl", rows)
    bench = BENCHMARKS["videorewardbench"]
    qs = bench.read_questions(path)
    assert [q.prompt for q in qs] == ["Describe.", "Q?", "Q?"] and qs[0].media_type == "video"
    m = score_predictions(bench, qs, judged({"v1": pairwise(1, 1), "v2": pairwise(1, 0), "v3": pairwise(0.5, 1)}))
    o = m["overall"]
    assert m["values"] == {"v1": 1.0, "v2": 0.0, "v3": 0.0}
    assert o["accuracy"] == pytest.approx(100 / 3) and o["macro_accuracy"] == 50.0
    assert o["accuracy_chosen_first"] == pytest.approx(200 / 3) and o["consistency"] == pytest.approx(100 / 3)
    s = score_predictions(bench, qs, judged({"v1": scalar(3, 3), "v2": scalar(2, 1), "v3": scalar(None, 1)}))
    assert s["overall"]["accuracy"] == pytest.approx(100 / 3) and s["overall"]["ties"] == 1
    assert s["overall"]["no_score"] == 1
    del rows[1]["chosen"]
    write_lines(path, rows)
    with pytest.raises(DataError, match=r"vrb.jsonl:2: missing field\(s\) 'chosen'"):
        bench.read_questions(path)


# ------------------------------------------------------------------------------ CLI, judgments, synthetic

def test_cli_scores_a_judgments_file_and_counts_bad_lines(tmp_path, rewardbench_file, capsys):
    judgments = tmp_path / "j.jsonl"
    judgments.write_text("".join(json.dumps({"id": str(i), "chosen": 1.0, "rejected": 0.0}) + "\n" for i in range(6))
                         + '{"id": "6", "chosen": "high", "rejected": 0}\n')
    argv = ["eval", "rewardbench", "--data", str(rewardbench_file), "--predictions", str(judgments),
            "--out", str(tmp_path / "o")]
    assert main(argv) == 1
    assert f"{judgments}:7: 'chosen' must be a number or null" in capsys.readouterr().err
    assert main([*argv, "--on-bad-record", "skip"]) == 0
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert m["bad_judgment_lines"] == 1 and m["missing_answers"] == 1 and m["overall"]["accuracy"] == 100.0
    assert main(["eval", "rewardbench", "--data", str(rewardbench_file), "--model", "x", "--out", "o"]) == 1
    assert "--judge SPEC (e.g. pairwise:model=x" in capsys.readouterr().err


def test_synth_reward_with_the_oracle_and_a_resumed_judgments_file(tmp_path):
    suite, out = tmp_path / "suite", tmp_path / "out"
    assert main(["eval", "synth-reward", "--make-data", str(suite), "--count", "12", "--judge", "oracle",
                 "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["overall"]["accuracy"] == 100.0 and m["overall"]["n"] == 12
    assert set(m["subsets"]) <= {"colour", "shape", "exists"}
    path = out / "judgments.jsonl"
    whole = path.read_bytes()
    path.write_bytes(b"".join(whole.splitlines(keepends=True)[:5]) + b'{"id": "col')  # killed mid-line
    assert main(["eval", "synth-reward", "--data", str(suite), "--judge", "oracle", "--out", str(out)]) == 0
    assert path.read_bytes() == whole
    noisy = tmp_path / "noisy"
    assert main(["eval", "synth-reward", "--data", str(suite), "--judge", "oracle:noise=20", "--out", str(noisy)]) == 0
    assert json.loads((noisy / "metrics.json").read_text())["overall"]["accuracy"] < 100.0


def test_synth_reward_video_suite(tmp_path):
    pytest.importorskip("av")
    suite, out = tmp_path / "suite", tmp_path / "out"
    assert main(["eval", "synth-reward-video", "--make-data", str(suite), "--count", "4", "--judge", "oracle",
                 "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert set(m["subsets"]) == {"object", "direction"} and m["overall"]["accuracy"] == 100.0
    first = json.loads((suite / "questions.jsonl").read_text().splitlines()[1])
    assert first["truth"]["chosen"].startswith("It moves ") and first["videos"][0].endswith(".mp4")


def test_a_judge_that_always_prefers_the_first_response_is_caught_by_the_swap(tmp_path, tiny_llava_path, monkeypatch):
    import mmalign.models
    from mmalign.models import Generation

    seen = []

    def always_a(model, processor, records, **kw):
        records = list(records)
        seen.extend(records)
        return [Generation("Response A reads better. [[A]]", []) for _ in records]

    monkeypatch.setattr(mmalign.models, "generate", always_a)
    suite, out = tmp_path / "suite", tmp_path / "out"
    assert main(["eval", "synth-reward", "--make-data", str(suite), "--count", "4", "--out", str(out),
                 "--judge", f"pairwise:model={tiny_llava_path}", "--device", "cpu"]) == 0
    o = json.loads((out / "metrics.json").read_text())["overall"]
    assert (o["accuracy_chosen_first"], o["accuracy_chosen_second"], o["consistency"], o["accuracy"]) == (
        100.0, 0.0, 0.0, 0.0)
    assert len(seen) == 8 and all(len(r["images"]) == 1 for r in seen)  # each item in both orders, with its image
    line = json.loads((out / "judgments.jsonl").read_text().splitlines()[0])
    assert (line["chosen_first"], line["chosen_second"]) == (1.0, 0.0) and len(line["replies"]) == 2
