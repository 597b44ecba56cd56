"""`mmalign build-data video` answers user mistakes without a traceback: a missing data file, a folder
given as data, a non-video file (skipped with its line, no decoder noise); its --help has no doubled
defaults."""

import json

import pytest

from mmalign.cli.main import main as cli


def test_missing_file_and_folder_are_clear_errors(tmp_path, capfd):
    for data, message in ((tmp_path / "missing.jsonl", "data file not found"), (tmp_path, "is a folder")):
        assert cli(["build-data", "video", "--data", str(data), "--out", str(tmp_path / "out")]) == 1
        out, err = capfd.readouterr()
        assert message in err and "Traceback" not in out + err
    assert not (tmp_path / "out").exists()  # nothing written for a command that could not start


def test_non_video_file_is_skipped_with_its_line_and_no_decoder_noise(tmp_path, capfd):
    from mmalign.data.synth.video import write_video_dataset

    src = write_video_dataset(tmp_path / "src", seed=5, count=1)
    (tmp_path / "src" / "vid" / "notes.mp4").write_text("these are my notes, not a video\n")
    with open(src, "a") as fh:
        fh.write(json.dumps({"id": "txt", "videos": ["vid/notes.mp4"], "prompt": "<video>\nWhich way?",
                             "chosen": "Up.", "rejected": "Down."}) + "\n")
    assert cli(["build-data", "video", "--data", str(src), "--out", str(tmp_path / "out"), "--frames", "2"]) == 0
    out, err = capfd.readouterr()
    assert f"{src}:2: skipped (bad_media): video 'vid/notes.mp4'" in err
    assert "bad_media 1" in out and "written 1" in out
    assert "moov atom" not in out + err and "video_reader.cc" not in out + err and "Traceback" not in err


def test_help_shows_each_default_once(capsys):
    with pytest.raises(SystemExit):
        cli(["build-data", "video", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: )" not in text and ") (default:" not in text
    assert "(default: the data file's folder)" in text and "default: 8" in text
