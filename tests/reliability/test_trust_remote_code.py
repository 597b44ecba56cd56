"""No Python code from a model folder runs unless asked: every `from_pretrained` of `mmalign.models.load`
gets `trust_remote_code` (default False; `mmalign train` passes the config key), and a model that ships
code is refused with what to set, without the code having run."""

from __future__ import annotations

import importlib
import json

import pytest

from mmalign.cli.main import main
from mmalign.errors import MMAlignError
from mmalign.models import load
from mmalign.train.config import TrainConfig

load_module = importlib.import_module("mmalign.models.load")  # the package exports load() under that name

EVIL = '''
from pathlib import Path
from transformers import PretrainedConfig

Path(__file__).resolve().parent.joinpath("code-ran").write_text("yes")  # what a payload would do


class EvilConfig(PretrainedConfig):
    model_type = "mmalign-evil"
'''


def _evil_model(tmp_path):
    folder = tmp_path / "evil-model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "mmalign-evil",
                                                    "auto_map": {"AutoConfig": "evil.EvilConfig"}}))
    (folder / "evil.py").write_text(EVIL)
    return folder


def test_a_model_that_ships_code_is_refused_and_its_code_never_runs(tmp_path):
    with pytest.raises(MMAlignError, match="ships its own Python code.*trust_remote_code: true"):
        load(_evil_model(tmp_path))
    assert not list(tmp_path.rglob("code-ran"))


@pytest.fixture
def calls(monkeypatch):
    """Every from_pretrained that load() makes, with its keyword arguments."""
    seen: list[tuple[str, dict]] = []
    for name in ("AutoConfig", "AutoModelForImageTextToText", "AutoModelForCausalLM", "AutoProcessor",
                 "AutoTokenizer"):
        cls = getattr(load_module, name)

        class Spy:
            _cls, _name = cls, name

            @classmethod
            def from_pretrained(cls, *args, **kwargs):
                seen.append((cls._name, kwargs))
                return cls._cls.from_pretrained(*args, **kwargs)

        monkeypatch.setattr(load_module, name, Spy)
    return seen


@pytest.mark.parametrize("trust", [False, True])
def test_every_from_pretrained_gets_the_setting(trust, tiny_llava_path, calls):
    load(tiny_llava_path, trust_remote_code=trust)
    assert {name for name, _ in calls} == {"AutoConfig", "AutoModelForImageTextToText", "AutoProcessor"}
    assert all(kwargs.get("trust_remote_code") is trust for _, kwargs in calls), calls


def test_the_train_config_key_reaches_load(tmp_path, tiny_llava_path, synth_pairs, monkeypatch, capsys):
    from mmalign.train import run_setup

    assert TrainConfig().trust_remote_code is False
    seen = {}

    def stop(path, **kwargs):
        seen.update(kwargs)
        raise MMAlignError("stopped after load")

    monkeypatch.setattr(run_setup, "load", stop)
    data, root = synth_pairs
    config = tmp_path / "c.yaml"
    config.write_text(f"model: {tiny_llava_path}\ndata: {data}\nroot: {root}\noutput_dir: {tmp_path / 'run'}\n"
                      "max_steps: 1\nprogress: false\n")
    assert main(["train", str(config)]) == 1 and seen["trust_remote_code"] is False
    assert main(["train", str(config), "trust_remote_code=true"]) == 1 and seen["trust_remote_code"] is True
    assert "stopped after load" in capsys.readouterr().err



@pytest.mark.parametrize("command", ["generate", "score"])
def test_other_commands_refuse_shipped_code_and_take_the_flag(tmp_path, synth_pairs, tiny_llava_path, calls,
                                                             command, capsys):
    data, root = synth_pairs
    evil = _evil_model(tmp_path)

    def argv(model, *flag):
        if command == "generate":
            return ["generate", "--model", str(model), "--data", str(data), "--root", str(root), "--out",
                    str(tmp_path / f"out{len(flag)}"), "--n", "1", "--max-new-tokens", "2", *flag]
        cands = tmp_path / "cands.jsonl"
        cands.write_text(json.dumps({"id": "a", "prompt": "Hi?", "candidates": [{"text": "x"}, {"text": "y"}]}) + "\n")
        return ["score", "--judge", f"pointwise:model={model}", "--data", str(cands), "--out",
                str(tmp_path / f"s{len(flag)}"), *flag]

    assert main(argv(evil)) == 1
    assert "--trust-remote-code" in capsys.readouterr().err and not list(tmp_path.rglob("code-ran"))
    calls.clear()
    try:
        main(argv(tiny_llava_path, "--trust-remote-code"))
    finally:
        load_module.allow_remote_code(False)  # the flag is process-wide: leave the default for other tests
    assert calls and all(kwargs.get("trust_remote_code") is True for _, kwargs in calls)


def test_dry_run_refuses_shipped_code_without_running_it(tmp_path, synth_pairs, capsys):
    data, root = synth_pairs
    config = tmp_path / "c.yaml"
    config.write_text(f"model: {_evil_model(tmp_path)}\ndata: {data}\nroot: {root}\noutput_dir: {tmp_path / 'run'}\n")
    assert main(["train", str(config), "--dry-run"]) == 1
    assert "ships its own Python code" in capsys.readouterr().err
    assert not list(tmp_path.rglob("code-ran"))
