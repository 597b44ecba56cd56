"""Model paths that cannot load are answered at once, before any download attempt: a missing local path
is "not found", a run folder gets "did you mean .../final?", a hub name offline fails fast. Through
`mmalign train` and `mmalign eval` these are exit status 1 without a traceback."""

import importlib
import shutil
import time

import pytest

from mmalign.cli.main import main as cli
from mmalign.errors import MMAlignError
from mmalign.models import load
from mmalign.models.load import check_model_path, looks_local

LOAD = importlib.import_module("mmalign.models.load")  # the module (mmalign.models.load is the function)


@pytest.fixture(autouse=True)
def no_hub(monkeypatch):
    """Any attempt to read a model config (hub or disk) fails the test: each answer comes before it."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"from_pretrained was called with {args}")

    monkeypatch.setattr(LOAD.AutoConfig, "from_pretrained", refuse)


@pytest.fixture
def run_folder(tmp_path, tiny_llava_path):
    """A training run's output folder: final/ holds the model, the folder itself does not."""
    run = tmp_path / "runs" / "tiny-dpo"
    shutil.copytree(tiny_llava_path, run / "final")
    (run / "metrics.jsonl").write_text("")
    return run


@pytest.mark.parametrize("name,local", [("assets/demo/reader-lava", True), ("./reader", True),
                                        ("/abs/model", True), ("~/m", True), ("a b", True),
                                        ("org/model", False), ("gpt2", False)])
def test_what_looks_local(name, local):
    assert looks_local(name) is local


def test_missing_local_path_is_not_found(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MMAlignError, match=r"'assets/demo/reader-lava' not found: no such folder"):
        load("assets/demo/reader-lava")
    (tmp_path / "runs").mkdir()  # first part is a folder here: a path, not a hub name
    with pytest.raises(MMAlignError, match="not found"):
        load("runs/tiny-dpo")


def test_run_folder_suggests_final(run_folder):
    with pytest.raises(MMAlignError, match=rf"run folder.*did you mean {run_folder / 'final'}\?"):
        load(run_folder)


def test_run_folder_without_final_suggests_newest_checkpoint(run_folder):
    for step in (5, 12):
        shutil.copytree(run_folder / "final", run_folder / f"checkpoint-{step}")
    shutil.rmtree(run_folder / "final")
    with pytest.raises(MMAlignError, match=r"did you mean .*checkpoint-12\?"):
        check_model_path(run_folder)
    shutil.rmtree(run_folder)
    run_folder.mkdir()
    with pytest.raises(MMAlignError, match="no config.json"):
        check_model_path(run_folder)


def test_hub_name_offline_fails_fast(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    with pytest.raises(MMAlignError, match="'demo/reader-lava'.*not in the Hugging Face cache while offline"):
        load("demo/reader-lava")
    assert time.perf_counter() - started < 2  # no retries: from_pretrained's five took 23 s


def test_hub_name_with_the_hub_unreachable_fails_fast(monkeypatch):
    monkeypatch.setattr(LOAD, "hub_offline", lambda: False)
    for key in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: connection refused at once
    with pytest.raises(MMAlignError, match="hub cannot be reached"):
        load("demo/reader-lava")


def test_train_and_eval_answer_without_traceback(tmp_path, run_folder, synth_pairs, capsys):
    data, root = synth_pairs
    config = tmp_path / "c.yaml"
    config.write_text(f"model: {run_folder}\ndata: {data}\nroot: {root}\noutput_dir: {tmp_path / 'out'}\n"
                      "max_steps: 1\nprogress: false\n")
    assert cli(["train", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"did you mean {run_folder / 'final'}?" in err and "Traceback" not in err
    suite = tmp_path / "suite"
    assert cli(["eval", "synth-pope", "--make-data", str(suite), "--count", "4"]) == 0
    for model, message in ((run_folder, "did you mean"), (tmp_path / "no" / "such-model", "not found")):
        assert cli(["eval", "synth-pope", "--model", str(model), "--data", str(suite / "questions.jsonl"),
                    "--out", str(tmp_path / "eval")]) == 1
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
