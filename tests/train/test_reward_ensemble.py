"""Reward-model ensembles (`mmalign reward-ensemble`): complementary seeded halves; M members trained through
`train(cfg)` and every pair scored by each into scores.reward_models (the scores load_reward gives, every other
field kept, the input untouched); a rerun skips finished members and reuses their scores; a changed config
trains again; the Secrets-II recipe (preference_strength + bt_margin) trains on the result; user mistakes
are one-line errors."""

import json
from collections import Counter

import pytest
import yaml

from mmalign.cli.main import main
from mmalign.data.reader import read_records
from mmalign.judge import load_reward
from mmalign.train.ensemble import ensemble_halves
from mmalign.train.ensemble_scores import candidate_record


@pytest.mark.parametrize("n, members", [(10, 4), (11, 2), (9, 3)])
def test_halves_come_in_complementary_seeded_pairs(n, members):
    halves = ensemble_halves(n, members, seed=5)
    assert len(halves) == members and halves == ensemble_halves(n, members, seed=5)
    for j in range(0, members - 1, 2):
        a, b = set(halves[j]), set(halves[j + 1])
        assert not a & b and a | b == set(range(n)) and len(a) == n // 2
    if members >= 4:
        assert halves[0] != halves[2]  # each pair draws its own permutation
    if members % 2 == 0:  # every record trains exactly M/2 members
        assert Counter(i for h in halves for i in h) == {i: members // 2 for i in range(n)}
    assert all(h == sorted(h) for h in halves)
    assert ensemble_halves(n, members, seed=6) != halves


def _config(tmp_path, **over):
    cfg = {"model": "tiny-llama", "data": "synthetic-text", "synthetic_pairs": 16, "eval_data": "synthetic-text",
           "synthetic_eval_pairs": 8, "head": "value", "loss": {"name": "bt"}, "max_steps": 2,
           "per_device_batch_size": 4, "learning_rate": 1e-3, "max_length": 64, "progress": False, "seed": 3,
           **over}
    path = tmp_path / "rm.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ensemble")
    out = tmp / "ens"
    assert main(["reward-ensemble", str(_config(tmp)), "--members", "2", "--out", str(out)]) == 0
    return tmp, out


def test_members_train_on_their_halves_with_their_seeds(ensemble):
    _, out = ensemble
    summary = json.loads((out / "ensemble.json").read_text())
    assert [(m["index"], m["seed"], m["pairs"]) for m in summary["members"]] == [(0, 3, 8), (1, 4, 8)]
    for m in (0, 1):
        marker = json.loads((out / f"member-{m}" / "ensemble_member.json").read_text())
        assert marker["finished"] and marker["config"]["seed"] == 3 + m
        assert marker["config"]["data"] == str(out / "halves" / f"member-{m}.jsonl")
        assert (out / f"member-{m}" / "final" / "config.json").is_file()
        assert 0 <= summary["members"][m]["heldout_accuracy"] <= 1
    ids = [{json.loads(line)["id"] for line in (out / "halves" / f"member-{m}.jsonl").read_text().splitlines()}
           for m in (0, 1)]
    assert not ids[0] & ids[1] and len(ids[0] | ids[1]) == 16


def test_every_pair_gets_every_members_scores_and_keeps_its_fields(ensemble):
    _, out = ensemble
    source = out / "data" / "train.jsonl"
    inputs = [json.loads(line) for line in source.read_text().splitlines()]
    scored = [json.loads(line) for line in (out / "scored.jsonl").read_text().splitlines()]
    assert len(scored) == len(inputs) == 16
    for before, after in zip(inputs, scored):
        assert {k: v for k, v in after.items() if k != "scores"} == before
        assert "reward_models" not in before.get("scores", {})
        models = after["scores"]["reward_models"]
        assert len(models) == 2 and all(len(p) == 2 and all(isinstance(s, float) for s in p) for p in models)
    records, _ = read_records(source, source.parent)
    for m in (0, 1):
        judge = load_reward(out / f"member-{m}" / "final", root=source.parent)
        want = judge.score([candidate_record(r) for r in records[:3]])
        got = [v for s in scored[:3] for v in s["scores"]["reward_models"][m]]
        assert got == pytest.approx([v for pair in want for v in pair], abs=1e-6)
    assert scored[0]["scores"]["reward_models"][0] != scored[0]["scores"]["reward_models"][1]  # other seeds


def test_a_rerun_skips_finished_members_and_reuses_their_scores(ensemble, monkeypatch, capsys):
    tmp, out = ensemble
    before = (out / "scored.jsonl").read_bytes()

    def refuse(*_, **__):
        raise AssertionError("nothing should be trained or scored again")

    monkeypatch.setattr("mmalign.train.trainer.train", refuse)
    monkeypatch.setattr("mmalign.judge.load_reward", refuse)
    assert main(["reward-ensemble", str(_config(tmp)), "--members", "2", "--out", str(out)]) == 0
    assert capsys.readouterr().out.count("finished before with this config, skipped") == 2
    assert (out / "scored.jsonl").read_bytes() == before


def test_the_secrets2_recipe_trains_on_the_ensembles_scores(ensemble):
    from mmalign.config import from_dict
    from mmalign.train.config import TrainConfig
    from mmalign.train.trainer import train

    tmp, out = ensemble
    result = train(from_dict(TrainConfig, {
        "model": "tiny-llama", "data": str(out / "scored.jsonl"), "root": str(out / "data"), "head": "value",
        "transforms": [{"name": "preference_strength", "flip_fraction": 0.25}],
        "loss": {"name": "bt_margin", "label_smoothing": 0.1}, "max_steps": 2, "per_device_batch_size": 4,
        "max_length": 64, "progress": False, "output_dir": str(tmp / "final-rm")}))
    assert result.steps == 2 and result.nonfinite_skipped == 0
    rows = [json.loads(line) for line in (tmp / "final-rm" / "data" / "transformed.jsonl").read_text().splitlines()]
    assert sum(r["meta"]["strength_flipped"] for r in rows) == 4  # floor(0.25 * 16)
    scored = [json.loads(line) for line in (out / "scored.jsonl").read_text().splitlines()]
    diffs = [sum(c - r for c, r in s["scores"]["reward_models"]) / 2 for s in scored]
    for row, d in zip(rows, diffs):
        assert row["meta"]["preference_strength"] == pytest.approx(-d if row["meta"]["strength_flipped"] else d)


def test_a_changed_config_trains_the_members_again(tmp_path, capsys):
    config = _config(tmp_path, synthetic_pairs=8, max_steps=1)
    out = tmp_path / "ens"
    assert main(["reward-ensemble", str(config), "--members", "2", "--out", str(out)]) == 0
    first = (out / "scored.jsonl").read_text()
    assert main(["reward-ensemble", str(config), "learning_rate=0.01", "--members", "2", "--out", str(out)]) == 0
    assert capsys.readouterr().out.count("config changed (learning_rate); training it again") == 2
    assert (out / "scored.jsonl").read_text() != first
    assert len(list((out / "member-0").glob("scores-*.jsonl"))) == 1


def test_user_mistakes_are_one_line_errors(tmp_path, capsys):
    assert main(["reward-ensemble", str(_config(tmp_path, head="lm", loss={"name": "sigmoid"})), "--out",
                 str(tmp_path / "a")]) == 1
    assert "needs head: value" in capsys.readouterr().err
    assert main(["reward-ensemble", str(_config(tmp_path)), "--members", "1", "--out", str(tmp_path / "b")]) == 1
    assert "at least 2 reward models" in capsys.readouterr().err
    (tmp_path / "c" / "member-0").mkdir(parents=True)
    (tmp_path / "c" / "member-0" / "notes.txt").write_text("mine")
    assert main(["reward-ensemble", str(_config(tmp_path, synthetic_pairs=8)), "--members", "2", "--out",
                 str(tmp_path / "c")]) == 1
    assert "holds no ensemble_member.json" in capsys.readouterr().err


def test_pairs_with_their_own_rejected_media_are_refused(tmp_path, capsys):
    config = _config(tmp_path, synthetic_pairs=8, max_steps=1)
    out = tmp_path / "ens"
    pairs = tmp_path / "other.jsonl"
    pairs.write_text(json.dumps({"id": "x", "prompt": "Is it red?", "chosen": "Yes.", "rejected": "No.",
                                 "rejected_prompt": "Is it blue?"}) + "\n")
    assert main(["reward-ensemble", str(config), "--members", "2", "--out", str(out), "--score", str(pairs)]) == 1
    assert f"{pairs}:1: has rejected_prompt" in capsys.readouterr().err


def test_a_synthetic_held_out_split_beside_a_data_file_is_made_per_member(tmp_path):
    from mmalign.data.synth import write_text_pairs

    data = write_text_pairs(tmp_path / "mine", seed=1, count=8)
    config = _config(tmp_path, data=str(data), max_steps=1)
    out = tmp_path / "ens"
    assert main(["reward-ensemble", str(config), "--members", "2", "--out", str(out)]) == 0
    for m in (0, 1):  # its media would sit under OUT/data, not under the data file's root
        marker = json.loads((out / f"member-{m}" / "ensemble_member.json").read_text())
        assert marker["config"]["eval_data"] == "synthetic-text" and marker["eval"]["pairs"] == 8
    scored = [json.loads(line) for line in (out / "scored.jsonl").read_text().splitlines()]
    assert len(scored) == 8 and all(len(s["scores"]["reward_models"]) == 2 for s in scored)
