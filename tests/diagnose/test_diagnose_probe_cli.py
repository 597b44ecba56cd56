"""`mmalign data probe` on tiny models: the pooled hidden states against independent computations, the command's
outputs, and its errors."""

from __future__ import annotations

import json

import pytest
import torch

from mmalign.cli.main import main
from mmalign.data.collate import PreferenceCollator
from mmalign.data.reader import read_records
from mmalign.diagnose.answers import Context, scoring_batch
from mmalign.diagnose.hidden import pooled_hidden
from mmalign.io import write_jsonl_atomic
from mmalign.train.scored_tokens import ScoreRequest
from mmalign.train.step import PairForward

NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture(scope="module")
def tiny_text(tmp_path_factory):
    from mmalign.models import load
    from mmalign.models.tiny_text import build_tiny_llama

    path = build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), hidden_size=32, num_layers=3)
    return path, load(path)


def _text_pairs(path, n: int = 20):
    """Source "styled": the chosen answer is a sentence, the rejected one a bare word (a cue any probe finds).
    Source "same": both are bare words. Every prompt is different."""
    rows = []
    for i in range(n):
        q = "please " * (i // 8) + f"What number comes after {NUMBERS[i % 8]}?"
        right, wrong = NUMBERS[i % 8 + 1], NUMBERS[(i * 5 + 3) % 9]
        if i % 2 == 0:
            rows.append({"id": f"s{i}", "prompt": q, "chosen": f"The answer is {right}.", "rejected": f"{wrong}.",
                         "meta": {"source": "styled"}})
        else:
            rows.append({"id": f"m{i}", "prompt": q, "chosen": f"{right}.", "rejected": f"{wrong}.",
                         "meta": {"source": "same"}})
    write_jsonl_atomic(path, rows)
    return path


@pytest.mark.parametrize("family", ["llava", "qwen2_vl"])
def test_last_token_of_the_last_layer_is_the_scoring_cores_last_hidden(request, synth_pairs, family):
    from mmalign.models import load

    loaded = request.getfixturevalue("tiny_llava") if family == "llava" else load(
        request.getfixturevalue("tiny_qwen_path"))
    path, root = synth_pairs
    records, _ = read_records(path, root)
    collator = PreferenceCollator(loaded.processor, loaded.adapter, root)
    sb = scoring_batch(collator, [Context(r.prompt, r.images, r.videos, [r.chosen, r.rejected]) for r in records[:4]])
    forward = PairForward(loaded.adapter, collator.pad_token_id, "concatenated")
    with torch.no_grad():
        expected = forward.scores(loaded.model, sb, ScoreRequest(last_hidden=True)).last_hidden
    got = pooled_hidden(loaded.model, loaded.adapter, sb, collator.pad_token_id, -1, ["last"])["last"]
    assert got.shape == (8, expected.shape[1])
    assert torch.allclose(got, expected.float(), atol=1e-5)


@pytest.mark.parametrize("layer", [1, -1])
def test_pooling_matches_a_forward_on_each_row_alone(tiny_text, tmp_path, layer):
    _, loaded = tiny_text
    records, _ = read_records(_text_pairs(tmp_path / "p.jsonl", 4), tmp_path)
    collator = PreferenceCollator(loaded.processor, loaded.adapter, tmp_path)
    sb = scoring_batch(collator, [Context(r.prompt, r.images, r.videos, [r.chosen, r.rejected]) for r in records])
    got = pooled_hidden(loaded.model, loaded.adapter, sb, collator.pad_token_id, layer, ["last", "mean", "mean-all"])
    tok = loaded.processor
    for i, rec in enumerate(records):
        for side, answer in enumerate((rec.chosen, rec.rejected)):
            prompt_ids = tok(collator.prompt_text(rec.prompt))["input_ids"]
            answer_ids = collator.answer_ids(rec.prompt, answer)
            with torch.no_grad():
                states = loaded.model(input_ids=torch.tensor([prompt_ids + answer_ids]),
                                      output_hidden_states=True).hidden_states[layer][0]
            row = 2 * i + side
            assert torch.allclose(got["last"][row], states[-1], atol=1e-5)
            assert torch.allclose(got["mean"][row], states[len(prompt_ids):].mean(0), atol=1e-5)
            assert torch.allclose(got["mean-all"][row], states.mean(0), atol=1e-5)


def test_probe_command_reports_per_source(tiny_text, tmp_path, capsys):
    model, _ = tiny_text
    data = _text_pairs(tmp_path / "pairs.jsonl", 40)
    out = tmp_path / "out"
    assert main(["data", "probe", "--model", str(model), "--data", str(data), "--out", str(out),
                 "--pool", "mean,last", "--batch-size", "5"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert (out / "report.md").is_file() and (out / "probe.png").stat().st_size > 0
    assert report["pools"] == ["mean", "last"] and report["pairs"] == 40 and report["prompts"] == 40
    styled = report["results"]["mean"]["by_source"]["styled"]
    assert styled["auroc"] == 1.0 and styled["accuracy"] == 1.0  # "The answer is ..." against a bare word
    assert (styled["train_prompts"], styled["test_prompts"]) == (16, 4)
    assert "source styled" in capsys.readouterr().out


def test_a_file_with_one_class_only_is_refused(tmp_path, capsys):
    data = tmp_path / "candidates.jsonl"
    write_jsonl_atomic(data, [{"id": "a", "prompt": "Hi?", "candidates": [{"text": "Hello."}]}])
    assert main(["data", "probe", "--model", "unused", "--data", str(data), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "one class only" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_too_few_prompts_is_refused_before_the_model_loads(tmp_path, capsys):
    data = tmp_path / "pairs.jsonl"
    write_jsonl_atomic(data, [{"id": str(i), "prompt": "Same question?", "chosen": "Yes.", "rejected": "No."}
                              for i in range(10)] + [{"id": "x", "prompt": "Other?", "chosen": "Yes.", "rejected": "No."}])
    assert main(["data", "probe", "--model", "no/such/model", "--data", str(data), "--out", str(tmp_path / "o")]) == 1
    assert "too few prompts to split by prompt: 2 distinct prompt(s)" in capsys.readouterr().err


def test_bad_pool_and_layer_are_clear_errors(tiny_text, tmp_path, capsys):
    model, _ = tiny_text
    data = _text_pairs(tmp_path / "pairs.jsonl", 10)
    assert main(["data", "probe", "--model", str(model), "--data", str(data), "--out", str(tmp_path / "o"),
                 "--pool", "max"]) == 1
    assert "unknown pooling max; choose from last, mean, mean-all" in capsys.readouterr().err
    assert main(["data", "probe", "--model", str(model), "--data", str(data), "--out", str(tmp_path / "o"),
                 "--layer", "7"]) == 1
    assert "--layer 7: the model has 3 decoder layers, so hidden states 0..3" in capsys.readouterr().err
