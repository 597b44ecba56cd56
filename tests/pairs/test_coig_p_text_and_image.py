"""COIG-P's recipe end to end on text and image prompts: two models answer, two judges score, pairs whose
mean scores differ by more than 2, and the report of pairs per prompt and judge agreement."""

import json

import pytest

from mmalign.cli.main import main


@pytest.fixture(scope="module")
def text_models(tmp_path_factory):
    from mmalign.models.tiny_registry import TINY_BUILDERS

    base = tmp_path_factory.mktemp("coigp-text")
    return [TINY_BUILDERS["tiny-llama"](base / f"m{seed}", seed=seed) for seed in (1, 2)]


def _text_prompts(folder):
    """The synthetic world's text questions (no images), each with its known answer as `chosen`."""
    from mmalign.data.synth.text import write_text_pairs

    path = write_text_pairs(folder, seed=5, count=4)
    return path, folder


@pytest.mark.parametrize("kind", ["text", "image"])
def test_coig_p_two_models_two_judges(tmp_path, synth_pairs, tiny_llava_path, text_models, kind, capsys):
    data, root = synth_pairs
    if kind == "text":
        (prompts, root), models = _text_prompts(tmp_path / "text"), text_models
    else:
        prompts = tmp_path / "image.jsonl"
        prompts.write_text("".join(data.read_text().splitlines(keepends=True)[:4]))
        models = [tiny_llava_path, tiny_llava_path]  # one model twice: still two answer sets, per-sample seeds
    media = ["--root", str(root)]
    argv = ["generate", "--data", str(prompts), "--out", str(tmp_path / "c"), "--n", "3", "--max-new-tokens", "4",
            *media, *[x for m in models for x in ("--model", str(m))]]
    assert main(argv) == 0
    assert main(["score", "--judge", "oracle:noise=3,seed=1,name=j1", "--judge", "oracle:noise=3,seed=2,name=j2",
                 "--data", str(tmp_path / "c/candidates.jsonl"), *media, "--out", str(tmp_path / "s")]) == 0
    capsys.readouterr()
    assert main(["pairs", "--data", str(tmp_path / "s/scored.jsonl"), "--out", str(tmp_path / "p"),
                 "--rule", "gap:2"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((tmp_path / "p/pairs_summary.json").read_text())
    assert sum(summary["pairs_per_prompt"].values()) == 4  # every prompt counted once
    assert sum(int(n) * k for n, k in summary["pairs_per_prompt"].items()) == summary["pairs"]  # JSON: "2": k
    scored = [json.loads(x) for x in (tmp_path / "s/scored.jsonl").read_text().splitlines()]
    assert all(len(r["candidates"]) == 6 for r in scored)  # 2 models x 3 answers
    assert summary["judge_agreement"]["pairs"].keys() == {"j1|j2"}
    assert 0.0 <= summary["judge_agreement"]["overall"] <= 1.0
    assert "prompts by pairs made:" in printed and "judges order two answers alike" in printed
    for line in (tmp_path / "p/pairs.jsonl").read_text().splitlines():
        pair = json.loads(line)
        assert pair["scores"]["chosen"] - pair["scores"]["rejected"] > 2
