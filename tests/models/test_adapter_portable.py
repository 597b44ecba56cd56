"""A LoRA run started with relative paths: its adapter loads from any other working directory, with plain
peft and with mmalign's loader (what `mmalign eval --model` uses), and every file it writes has the
umask's mode (0666 & ~umask), like a plain open()."""

import json
import os
import shutil
import stat

import pytest
import yaml

from mmalign.cli.main import main as cli


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory, tiny_llava_path, synth_pairs):
    """`mmalign train` run from WORK with model=models/base and output_dir=runs/lora (both relative)."""
    work = tmp_path_factory.mktemp("work")
    shutil.copytree(tiny_llava_path, work / "models" / "base")
    data, root = synth_pairs
    config = work / "lora.yaml"
    config.write_text(yaml.safe_dump({
        "model": "models/base", "data": str(data), "root": str(root), "output_dir": "runs/lora",
        "lora": {"enabled": True, "r": 4}, "per_device_batch_size": 4, "max_steps": 2, "save_steps": 1,
        "max_length": 64, "progress": False, "seed": 1}))
    old_cwd, old_mask = os.getcwd(), os.umask(0o002)
    os.chdir(work)
    try:
        assert cli(["train", "lora.yaml"]) == 0
    finally:
        os.chdir(old_cwd)
        os.umask(old_mask)
    return work, work / "runs" / "lora"


def test_adapter_names_its_base_by_absolute_path(lora_run):
    work, run = lora_run
    base = json.loads((run / "final" / "adapter_config.json").read_text())["base_model_name_or_path"]
    assert base == str(work / "models" / "base")


def test_plain_peft_loads_the_adapter_from_another_folder(lora_run, tmp_path, monkeypatch):
    from peft import AutoPeftModel, PeftModel

    monkeypatch.chdir(tmp_path)
    model = AutoPeftModel.from_pretrained(str(lora_run[1] / "final"))
    assert isinstance(model, PeftModel)


def test_mmalign_loads_the_adapter_from_another_folder(lora_run, tmp_path, monkeypatch):
    from mmalign.models import load

    monkeypatch.chdir(tmp_path)
    loaded = load(lora_run[1] / "final")
    assert loaded.adapter.is_vision and not hasattr(loaded.model, "peft_config")


def test_an_older_adapter_with_a_relative_base_loads_too(lora_run, tmp_path, monkeypatch):
    """Adapters written before the base was stored absolute: resolved beside / above the adapter."""
    from mmalign.models.load import adapter_base_path

    work, run = lora_run
    old = work / "runs" / "old"
    shutil.copytree(run / "final", old / "final")
    cfg = json.loads((old / "final" / "adapter_config.json").read_text())
    (old / "final" / "adapter_config.json").write_text(json.dumps({**cfg, "base_model_name_or_path": "models/base"}))
    monkeypatch.chdir(tmp_path)
    assert adapter_base_path(old / "final") == str(work / "models" / "base")
    cfg["base_model_name_or_path"] = "gone/models/base"
    (old / "final" / "adapter_config.json").write_text(json.dumps(cfg))
    from mmalign.errors import MMAlignError

    with pytest.raises(MMAlignError, match="gone/models/base.*not found"):
        adapter_base_path(old / "final")


def test_every_file_a_run_writes_has_the_umasks_mode(lora_run):
    """config.yaml, metrics.jsonl, checkpoints, final/, the built base: 0666 & ~0o002, none 0600."""
    run = lora_run[1]
    found = {str(p.relative_to(run)): stat.S_IMODE(p.stat().st_mode) for p in run.rglob("*") if p.is_file()}
    assert {"config.yaml", "metrics.jsonl", "final/adapter_config.json"} <= set(found)
    assert any(name.startswith("checkpoint-") for name in found)
    wrong = {name: oct(mode) for name, mode in found.items() if mode != 0o664}
    assert not wrong
