"""`mmalign data validate` opens every image and video (with --model it also checks token lengths), refuses
an empty file and wrong types, each with file:line and exit status 1; `build-data mia` refuses an empty
file. Never a traceback."""

import io
import json

import pytest
from PIL import Image

from mmalign.cli.main import main as cli
from mmalign.data import parse_record
from mmalign.data.schema import RecordProblem
from mmalign.data.synth.video import encode_mp4

PROMPT = "<image>\nWhat colour?"


def rec(rid="a", image="ok.png", **over):
    return {"id": rid, "images": [image], "prompt": PROMPT, "chosen": "Red.", "rejected": "Blue.", **over}


@pytest.fixture
def root(tmp_path):
    Image.new("RGB", (32, 32), (200, 0, 0)).save(tmp_path / "ok.png")
    png = io.BytesIO()
    Image.new("RGB", (64, 64), (0, 90, 0)).save(png, format="PNG")
    (tmp_path / "random.png").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "truncated.png").write_bytes(png.getvalue()[: len(png.getvalue()) // 2])
    (tmp_path / "empty.png").write_bytes(b"")
    import numpy as np

    encode_mp4(tmp_path / "ok.mp4", np.zeros((4, 32, 32, 3), np.uint8), fps=4)
    (tmp_path / "random.mp4").write_bytes(bytes(range(256)) * 16)
    return tmp_path


def validate(root, rows, capsys, *extra):
    path = root / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code = cli(["data", "validate", "--data", str(path), "--root", str(root), *extra])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out + out.err, path


@pytest.mark.parametrize("name,problem", [("random.png", "cannot be decoded"), ("truncated.png", "cannot be decoded"),
                                          ("empty.png", "is empty")])
def test_broken_images_are_caught(root, capsys, name, problem):
    code, out, path = validate(root, [rec(), rec("b", name)], capsys)
    assert code == 1
    assert f"{path}:2: " in out and name in out and problem in out and f"{path}:1:" not in out


def test_broken_video_is_caught_without_decoder_noise(root, capfd):
    video = {"id": "v", "videos": ["ok.mp4"], "prompt": "<video>\nWhat moves?", "chosen": "A.", "rejected": "B."}
    path = root / "data.jsonl"
    path.write_text(json.dumps(video) + "\n" + json.dumps({**video, "id": "w", "videos": ["random.mp4"]}) + "\n")
    assert cli(["data", "validate", "--data", str(path), "--root", str(root)]) == 1
    out, err = capfd.readouterr()
    assert f"{path}:2: " in out and "random.mp4" in out and f"{path}:1:" not in out
    assert "moov atom" not in out + err and "video_reader.cc" not in out + err  # decord's C++ log lines


def test_good_media_pass(root, capsys):
    code, out, _ = validate(root, [rec(), rec("b")], capsys)
    assert code == 0 and "2 records, all valid" in out


def test_wrong_types_are_named(root, capsys):
    code, out, path = validate(root, [rec(), {**rec("b"), "images": "ok.png"}, {**rec(), "id": 7}], capsys)
    assert code == 1
    assert f"{path}:2: field 'images' must be a list" in out
    assert f"{path}:3: field 'id' must be a string" in out


def test_trl_single_image_column_still_takes_a_string():
    record = parse_record({"image": "ok.png", "prompt": PROMPT, "chosen": "Red.", "rejected": "Blue."})
    assert record.images == ["ok.png"]
    with pytest.raises(RecordProblem, match="'videos' must be a list"):
        parse_record({"videos": "a.mp4", "prompt": "<video>", "chosen": "a", "rejected": "b"})


@pytest.mark.parametrize("content", ["", "\n  \n"])
def test_empty_data_file_is_refused(root, capsys, content):
    path = root / "empty.jsonl"
    path.write_text(content)
    assert cli(["data", "validate", "--data", str(path), "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: the file is empty" in err and "Traceback" not in err


def test_folder_or_missing_data_is_a_clear_error(root, capsys):
    assert cli(["data", "validate", "--data", str(root)]) == 1
    err = capsys.readouterr().err
    assert "is a folder" in err and "Traceback" not in err
    assert cli(["data", "validate", "--data", str(root / "nope.jsonl")]) == 1
    assert "not found" in capsys.readouterr().err


def test_build_data_mia_refuses_an_empty_file_before_loading_a_model(root, capsys):
    (root / "llava.json").write_text("[]")
    (root / "llava.jsonl").write_text("")
    for name in ("llava.json", "llava.jsonl"):
        code = cli(["build-data", "mia", "--data", str(root / name), "--model", str(root / "no-model"),
                    "--out", str(root / "out")])
        err = capsys.readouterr().err
        assert code == 1 and "empty" in err and "not found" not in err and "Traceback" not in err
