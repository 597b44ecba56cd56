"""Outputs get the mode a plain open() gives (0666 & ~umask), also those written to a temporary name and
renamed (mkstemp alone makes them 0600). The run-level check is in tests/models/test_adapter_portable.py."""

import os
import stat

import pytest

from mmalign.cli.main import main as cli
from mmalign.io import current_umask, write_json_atomic, write_jsonl_atomic, write_text_atomic


@pytest.fixture
def umask():
    old = os.umask(0o002)  # not the usual 0o022, so neither 0600 nor a hard-coded 0644 passes
    yield 0o002
    os.umask(old)


def modes(folder):
    """{relative path: permission bits} of every file under folder."""
    return {str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode) for p in folder.rglob("*") if p.is_file()}


def assert_plain_modes(folder, mask):
    found = modes(folder)
    assert found
    wrong = {name: oct(mode) for name, mode in found.items() if mode != 0o666 & ~mask}
    assert not wrong, f"expected {oct(0o666 & ~mask)}: {wrong}"


def test_umask_is_read_without_changing_it(umask):
    assert current_umask() == umask
    assert current_umask() == umask


@pytest.mark.parametrize("mask", [0o002, 0o027])
def test_atomic_writes_follow_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        write_text_atomic(tmp_path / "a.md", "x")
        write_json_atomic(tmp_path / "b.json", {"a": 1})
        write_jsonl_atomic(tmp_path / "c.jsonl", [{"a": 1}])
    finally:
        os.umask(old)
    assert_plain_modes(tmp_path, mask)


def test_command_outputs_follow_the_umask(tmp_path, umask, capsys):
    """llava.json and its images (data synth), report.json/md/png (report), a video set with its MP4s."""
    assert cli(["data", "synth", "llava", "--out", str(tmp_path / "llava"), "--count", "3"]) == 0
    assert cli(["data", "synth", "video", "--out", str(tmp_path / "video"), "--count", "2"]) == 0
    run = tmp_path / "run" / "final"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text('{"benchmark": "synth-pope", "overall": {"accuracy": 0.5}}')
    assert cli(["report", str(tmp_path / "run"), "--out", str(tmp_path / "report")]) == 0
    capsys.readouterr()
    assert {"report.json", "report.md", "report.png"} <= set(os.listdir(tmp_path / "report"))
    assert_plain_modes(tmp_path, umask)
