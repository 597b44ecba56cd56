"""The demo pipeline end to end on a few questions and steps (the fast variant of `make demo`)."""

import json
import re

import yaml

from mmalign.cli.main import main as cli


def _right(folder, suite, questions):
    from mmalign.eval.predictions import read_predictions
    from mmalign.eval.synth import answered_right

    return answered_right(suite, questions, read_predictions(folder / suite / "predictions.jsonl")[0])


def test_quick_demo_writes_report(tmp_path, capsys):
    from mmalign.eval.synth import read_suite

    out = tmp_path / "demo"
    assert cli(["demo", "--quick", "--controls", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    for key in ("single_image_acc", "multi_image_acc"):
        assert set(report[key]) == {"before", "after"}
        assert all(0.0 <= v <= 1.0 for v in report[key].values())
    assert set(report["hallucination_rate"]) == {"sequence", "collage", "inset"}
    seed = report["per_seed"][0]
    pairs = [json.loads(line) for line in (out / "seed-0" / "pairs" / "pairs.jsonl").read_text().splitlines()]
    assert sum(seed["pairs_per_format"].values()) == len(pairs)
    built = {"sequence": "sequence", "grid_collage": "collage", "pic_in_pic": "inset"}
    for fmt in ("sequence", "collage", "inset"):  # build-data's format names map onto the suites'
        n = sum(built[p["meta"]["format"]] == fmt for p in pairs)
        assert seed["pairs_per_format"].get(fmt, 0) == n == report["pairs_per_format"][fmt]
    assert seed["processed"] == 24
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "multi-image accuracy (synth-multi)" in printed and "| metric | before | after | change |" in printed
    # The DPO step really trained a LoRA adapter on the built pairs, with the replay rows and the NLL term.
    assert (out / "seed-0" / "dpo" / "final" / "adapter_config.json").is_file()
    dpo = yaml.safe_load((out / "seed-0" / "dpo.yaml").read_text())
    assert dpo["extra_data"] == [str(out / "seed-0" / "pairs" / "replay.jsonl")]
    assert [t["name"] for t in dpo["loss"]["terms"]] == ["sigmoid", "sft"]
    replay = (out / "seed-0" / "pairs" / "replay.jsonl").read_text().splitlines()
    assert len(replay) == report["replay_rows"] == seed["replay"] > 0
    # Collage pairs are not built and yes/no rows are skipped before the model answers, not dropped by the selector.
    assert all(p["meta"]["format"] != "grid_collage" for p in pairs)
    assert all(p["chosen"][0]["content"][0]["text"].lower() not in ("yes.", "no.") for p in pairs)
    assert report["skipped_before_answering"].get("yes_no_answer", 0) > 0
    assert "yes_no_answer" not in report["dropped_by_selector"]
    # McNemar per seed and suite counts the questions that turned right and turned wrong.
    for suite in ("synth-multi", "synth-pope"):
        questions = read_suite(suite, out / "suites" / "seed-0" / suite)
        before, after = _right(out / "seed-0" / "before", suite, questions), _right(out / "seed-0" / "after", suite, questions)
        test = seed["mcnemar"][suite]
        assert test["improved"] == sum(after[q] and not before[q] for q in before)
        assert test["worsened"] == sum(before[q] and not after[q] for q in before)
        assert test["n"] == len(questions) and 0.0 < test["p_value"] <= 1.0
    # The controls: NLL only on the same pairs (no preference term), and pairs built with random selection.
    controls = out / "seed-0" / "controls"
    nll = yaml.safe_load((controls / "nll_only" / "dpo.yaml").read_text())
    assert nll["data"] == dpo["data"] and [t["name"] for t in nll["loss"]["terms"]] == ["sft"]
    assert (controls / "nll_only" / "dpo" / "final" / "adapter_config.json").is_file()
    rnd = yaml.safe_load((controls / "random_selection" / "dpo.yaml").read_text())
    assert rnd["data"] == str(controls / "random_selection" / "pairs" / "pairs.jsonl") and rnd["loss"] == dpo["loss"]
    for arm in ("nll_only", "random_selection"):
        multi = json.loads((controls / arm / "after" / "synth-multi" / "metrics.json").read_text())
        assert report["controls"][arm]["multi_image_acc"] == round(multi["overall"]["accuracy"] / 100, 4)
        assert set(seed["controls"][arm]["mcnemar"]) == {"synth-multi", "synth-pope"}
    assert "| nll_only |" in printed and "| random_selection |" in printed and "McNemar, synth-multi" in printed


def test_rebuild_base_builds_the_reader_base_under_out(tmp_path, monkeypatch):
    from mmalign.demo import pipeline, reader_base

    calls = []

    def fake_build(out, recipe):
        calls.append((out, recipe))
        return out / "sft" / "final"

    monkeypatch.setattr(reader_base, "build_reader_base", fake_build)
    assert pipeline.base_model(tmp_path, rebuild=True, quick=True) == tmp_path / "base" / "sft" / "final"
    assert calls == [(tmp_path / "base", reader_base.QUICK_READER)]
    # Without --rebuild-base the shipped reader base is used, and it is the reader recipe's model: padded 64 px.
    assert pipeline.base_model(tmp_path) == pipeline.ASSET_MODEL
    image = json.loads((pipeline.ASSET_MODEL / "processor_config.json").read_text())["image_processor"]
    assert image["do_pad"] is True and image["size"] == {"shortest_edge": reader_base.ReaderRecipe().image_size}
    assert len(calls) == 1


def test_quick_demo_prints_commands_that_redo_its_steps(tmp_path, capsys):
    """The demo calls the library; the command lines it prints must do the same as those calls."""
    import shlex

    from mmalign.train.config import load_train_config

    out = tmp_path / "demo"
    assert cli(["demo", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    commands = [shlex.split(line[len("$ mmalign "):]) for line in printed.splitlines()
                if line.startswith("$ mmalign ")]
    assert [c[0] for c in commands] == ["eval", "eval", "data", "build-data", "train", "eval", "eval"]
    # Every long step ends with a line giving its time; stdout is no terminal here, so the bars are off and
    # the printed commands say so.
    for suite in ("synth-pope", "synth-multi"):
        assert len(re.findall(rf"^answer {suite}: \d+ question\(s\) answered in [\d.]+ s$", printed, re.MULTILINE)) == 2
    assert re.search(r"^\(built in [\d.]+ s\)$", printed, re.MULTILINE)
    assert re.search(r"^wrote .*final \(trained in [\d.]+ s\)$", printed, re.MULTILINE)
    assert "--no-progress" in commands[3] and "progress=false" in commands[4]
    # data synth llava, rerun from its printed line elsewhere, writes the same file.
    synth = commands[2]
    source = tmp_path / "again"
    synth[synth.index("--out") + 1] = str(source)
    assert cli(synth) == 0
    assert (source / "llava.json").read_bytes() == (out / "seed-0" / "source" / "llava.json").read_bytes()
    # The printed train line resolves to the config the run wrote.
    train = commands[4]
    cfg = load_train_config(train[1], train[2:])
    written = yaml.safe_load((out / "seed-0" / "dpo" / "config.yaml").read_text())
    assert written["loss"] == yaml.safe_load(yaml.safe_dump(cfg.loss)) and written["max_steps"] == cfg.max_steps
    # Every printed eval line parses with the eval command's own parser.
    from mmalign.cli.eval import build_parser

    for argv in (c for c in commands if c[0] == "eval"):
        args = build_parser().parse_args(argv[1:])
        assert args.model and args.out and (args.data or args.make_data)


def test_on_a_terminal_the_demo_draws_its_bars(tmp_path, monkeypatch, capsys):
    """Training and pair building run with their progress bars when stderr is a terminal (the printed
    command lines then carry no progress switch)."""
    from mmalign.demo import steps
    from mmalign.train import config as train_config
    from mmalign.train import trainer

    seen = {}

    def fake_train(cfg):
        seen["progress"] = cfg.progress
        return type("Result", (), {"final_dir": tmp_path / "final"})()

    monkeypatch.setattr(steps, "on_terminal", lambda: True)
    monkeypatch.setattr(trainer, "train", fake_train)
    config = tmp_path / "c.yaml"
    config.write_text(f"model: m\ndata: d.jsonl\noutput_dir: {tmp_path / 'out'}\n")
    assert steps.train_step(config) == tmp_path / "final"
    assert seen["progress"] is True and "progress=false" not in capsys.readouterr().out
    monkeypatch.setattr(steps, "on_terminal", lambda: False)
    steps.train_step(config)
    assert seen["progress"] is False and f"$ mmalign train {config} progress=false" in capsys.readouterr().out
    assert train_config.load_train_config(config, []).progress is True  # the config itself is left as written


def test_controls_with_random_selection_is_refused(tmp_path, capsys):
    out = tmp_path / "demo"
    assert cli(["demo", "--quick", "--controls", "--selector", "random", "--out", str(out)]) == 1
    assert "already trains a random-selection arm" in capsys.readouterr().err
    assert not out.exists()
