"""DID diagnostics with a stub scorer whose probabilities are known (the three-answer world of
test_diagnose_did_math.py), then with tiny models against an independent forward pass."""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch

from mmalign.cli.main import main
from mmalign.data.candidates import read_candidates
from mmalign.data.collate import PreferenceCollator
from mmalign.data.reader import read_records
from mmalign.diagnose.did import DidOptions, ModelScorer, did_candidates, did_pairs, entropy_table
from mmalign.io import read_jsonl, write_jsonl_atomic

REF = {"a": 0.5, "b": 0.25, "c": 0.25}
POL = {"a": 0.25, "b": 0.25, "c": 0.5}
H_Q = math.log(7) - 10 / 7 * math.log(2)


def stub_scorer(contexts):
    texts = [a[0]["content"][0]["text"].strip() for c in contexts for a in c.answers]
    return [math.log(POL[t]) for t in texts], [math.log(REF[t]) for t in texts], [len(t) for t in texts]


def _pairs_file(tmp_path):
    rows = [{"id": "1", "prompt": "Q?", "chosen": "c", "rejected": "a", "meta": {"source": "x"}},
            {"id": "2", "prompt": "Q?", "chosen": "a", "rejected": "c"},
            {"id": "3", "prompt": "Other?", "chosen": "b", "rejected": "a"}]
    path = tmp_path / "pairs.jsonl"
    write_jsonl_atomic(path, rows)
    return path


def test_pair_fields_and_summary(tmp_path):
    records, _ = read_records(_pairs_file(tmp_path), tmp_path)
    before = copy.deepcopy([r.raw for r in records])
    rows, report = did_pairs(records, stub_scorer, DidOptions(beta=0.5, batch_size=2), progress=False)
    assert [r.raw for r in records] == before  # the input records are not modified
    d = rows[0]["meta"]["did"]
    assert rows[0]["meta"]["source"] == "x"  # other meta kept
    assert d["margin"] == pytest.approx(math.log(4)) and d["p_chosen"] == pytest.approx(2 / 3)
    assert d["r_chosen"] == pytest.approx(math.log(2)) and d["tokens"] == [1, 1]
    assert rows[1]["meta"]["did"]["margin"] == pytest.approx(-math.log(4))
    # pair 3: b over a: r_w = 0, r_l = -ln 2 -> margin ln 2
    assert rows[2]["meta"]["did"]["margin"] == pytest.approx(math.log(2))
    assert report["pairs"] == 3 and report["margin_positive_share"] == pytest.approx(2 / 3)
    assert report["margin"]["median"] == pytest.approx(math.log(2))
    assert report["margin"]["mean"] == pytest.approx(math.log(2) / 3)


def test_candidate_fields_and_entropy(tmp_path):
    path = tmp_path / "cands.jsonl"
    write_jsonl_atomic(path, [{"id": "p", "prompt": "Q?", "candidates": [{"text": t} for t in "aabc"]},
                              {"id": "s", "prompt": "Other?", "candidates": [{"text": "b"}, {"text": "b"}]}])
    records, _ = read_candidates(path)
    rows, report = did_candidates(records, stub_scorer, DidOptions(beta=1.0), progress=False)
    did = rows[0]["meta"]["did"]
    assert did["entropy"] == pytest.approx(H_Q) and did["distinct"] == 3 and did["samples"] == 4
    assert did["entropy_normalised"] == pytest.approx(H_Q / math.log(3))
    assert [c["did"]["q"] for c in rows[0]["candidates"]] == pytest.approx([1 / 7, 1 / 7, 2 / 7, 4 / 7])
    # pi_ref^2 / pi over a, b, c: 1, 1/4, 1/8 -> (8, 2, 1) / 11
    assert [c["did"]["rejection_weight"] for c in rows[0]["candidates"]] == pytest.approx(
        [8 / 11, 8 / 11, 2 / 11, 1 / 11])
    assert rows[0]["candidates"][3]["did"]["log_ratio"] == pytest.approx(math.log(2))
    assert rows[1]["meta"]["did"]["entropy_normalised"] is None
    assert report["single_answer_prompts"] == 1 and report["entropy_normalised"]["n"] == 1
    assert "did" not in records[0]["candidates"][0]  # copies, not the input


def test_importance_estimator_on_candidates(tmp_path):
    path = tmp_path / "cands.jsonl"
    write_jsonl_atomic(path, [{"id": "p", "prompt": "Q?", "candidates": [{"text": t} for t in "aabc"]}])
    records, _ = read_candidates(path)
    rows, report = did_candidates(records, stub_scorer, DidOptions(entropy="is-ref"), progress=False)
    assert rows[0]["meta"]["did"]["entropy"] == pytest.approx(H_Q)
    assert math.exp(rows[0]["meta"]["did"]["log_z"]) == pytest.approx(3.5)
    assert [math.exp(c["did"]["log_q"]) for c in rows[0]["candidates"]] == pytest.approx([1 / 7, 1 / 7, 2 / 7, 4 / 7])
    assert report["ess"]["mean"] == pytest.approx(196 / 82)


def test_prompt_entropy_is_attached_to_pairs_of_the_same_prompt(tmp_path):
    cands = tmp_path / "cands.jsonl"
    write_jsonl_atomic(cands, [{"id": "p", "prompt": "Q?", "candidates": [{"text": t} for t in "abc"]}])
    table = entropy_table(did_candidates(read_candidates(cands)[0], stub_scorer, DidOptions(), progress=False)[0])
    records, _ = read_records(_pairs_file(tmp_path), tmp_path)
    rows, report = did_pairs(records, stub_scorer, DidOptions(), entropy_by_prompt=table, progress=False)
    assert rows[0]["meta"]["did"]["prompt"]["entropy"] == pytest.approx(H_Q)
    assert "prompt" not in rows[2]["meta"]["did"]
    assert report["pairs_without_candidates"] == 1


@pytest.fixture(scope="module")
def two_text_models(tmp_path_factory):
    from mmalign.models import load
    from mmalign.models.tiny_text import build_tiny_llama

    root = tmp_path_factory.mktemp("did-models")
    paths = [build_tiny_llama(root / name, hidden_size=32, seed=seed) for name, seed in (("pol", 1), ("ref", 2))]
    return paths, [load(p) for p in paths]


def _sequence_logp(loaded, collator, prompt, answer) -> float:
    """log pi(answer | prompt) from one plain forward over [prompt | answer], no padding."""
    prompt_ids = loaded.processor(collator.prompt_text(prompt))["input_ids"]
    answer_ids = collator.answer_ids(prompt, answer)
    with torch.no_grad():
        logits = loaded.model(input_ids=torch.tensor([prompt_ids + answer_ids])).logits[0].double()
    logp = torch.log_softmax(logits, -1)
    return sum(float(logp[len(prompt_ids) + t - 1, tok]) for t, tok in enumerate(answer_ids))


def test_model_scorer_matches_a_plain_forward(two_text_models, tmp_path):
    _, (pol, ref) = two_text_models
    data = tmp_path / "pairs.jsonl"
    write_jsonl_atomic(data, [{"id": str(i), "prompt": f"What number comes after {w}?", "chosen": "Two.",
                               "rejected": "The answer is nine."} for i, w in enumerate(["one", "three", "five"])])
    records, _ = read_records(data, tmp_path)
    rows, _ = did_pairs(records, ModelScorer(pol, ref, tmp_path), DidOptions(batch_size=2), progress=False)
    cp, cr = (PreferenceCollator(m.processor, m.adapter, tmp_path) for m in (pol, ref))
    for rec, row in zip(records, rows):
        d = row["meta"]["did"]
        expected = [_sequence_logp(pol, cp, rec.prompt, rec.chosen), _sequence_logp(pol, cp, rec.prompt, rec.rejected)]
        expected_ref = [_sequence_logp(ref, cr, rec.prompt, rec.chosen), _sequence_logp(ref, cr, rec.prompt, rec.rejected)]
        assert d["policy_logps"] == pytest.approx(expected, abs=1e-4)
        assert d["ref_logps"] == pytest.approx(expected_ref, abs=1e-4)
        margin = (expected[0] - expected_ref[0]) - (expected[1] - expected_ref[1])
        assert d["margin"] == pytest.approx(margin, abs=2e-4)


def test_did_command_on_candidates_and_pairs(two_text_models, tmp_path, capsys):
    (pol, ref), _ = two_text_models
    cands = tmp_path / "cands.jsonl"
    write_jsonl_atomic(cands, [{"id": f"p{i}", "prompt": f"What number comes after {w}?",
                                "candidates": [{"text": t, "model": str(ref)} for t in ("Two.", "Six.", "Two.")]}
                               for i, w in enumerate(["one", "three"])])
    # The model against itself: every log-ratio is 0, so q is uniform over the distinct answers.
    out = tmp_path / "self"
    assert main(["data", "did", "--model", str(pol), "--ref", str(pol), "--data", str(cands), "--out", str(out)]) == 0
    rows = read_jsonl(out / "did.jsonl")
    assert rows[0]["meta"]["did"]["entropy"] == pytest.approx(math.log(2), abs=1e-6)
    assert rows[0]["meta"]["did"]["entropy_normalised"] == pytest.approx(1.0, abs=1e-6)
    assert [c["did"]["q"] for c in rows[0]["candidates"]] == pytest.approx([0.5, 0.5, 0.5])
    assert (out / "report.md").is_file() and (out / "did.png").is_file()
    # Pairs of the same prompts, with the candidates' entropy attached.
    pairs = tmp_path / "pairs.jsonl"
    write_jsonl_atomic(pairs, [{"id": "a", "prompt": "What number comes after one?", "chosen": "Two.",
                                "rejected": "Six."}, {"id": "b", "prompt": "What number comes after two?",
                                                      "chosen": "Three.", "rejected": "Six."}])
    out2 = tmp_path / "pairs-out"
    assert main(["data", "did", "--model", str(pol), "--ref", str(ref), "--data", str(pairs), "--candidates",
                 str(cands), "--entropy", "is-ref", "--out", str(out2)]) == 0
    report = json.loads((out2 / "report.json").read_text())
    assert report["kind"] == "pairs" and report["pairs"] == 2 and report["pairs_without_candidates"] == 1
    rows = read_jsonl(out2 / "did.jsonl")
    assert "log_z" in rows[0]["meta"]["did"]["prompt"] and "prompt" not in rows[1]["meta"]["did"]
    assert "warning" not in capsys.readouterr().out  # the candidates came from --ref, as is-ref assumes


def test_did_command_errors(two_text_models, tmp_path, capsys):
    (pol, ref), _ = two_text_models
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "prompt": "Q?", "chosen": "x", "rejected": "y"}\n{"id": "b", "prompt": "Q?"}\n')
    assert main(["data", "did", "--model", str(pol), "--ref", str(ref), "--data", str(bad), "--out",
                 str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2: missing required field 'chosen'" in err and "Traceback" not in err
    out = tmp_path / "o2"
    out.mkdir()
    write_jsonl_atomic(out / "did.jsonl", [{"id": "a", "prompt": "Q?", "chosen": "x", "rejected": "y"}])
    assert main(["data", "did", "--model", str(pol), "--ref", str(ref), "--data", str(out / "did.jsonl"), "--out",
                 str(out)]) == 1
    assert "would overwrite the input" in capsys.readouterr().err
