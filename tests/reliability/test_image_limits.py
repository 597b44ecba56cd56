"""Decompression bombs and absurd image sizes are refused from the file's header, before decoding, with a
per-record message (file:line, the size, max_image_pixels), under `on_bad_record` like any bad record."""

from __future__ import annotations

import json
import struct
import zlib

import pytest
from PIL import Image

from mmalign.cli.main import main
from mmalign.data.image_limits import open_image, set_max_image_pixels
from mmalign.data.schema import RecordProblem
from mmalign.errors import ConfigError


def png_bomb(path, width: int, height: int) -> None:
    """A PNG whose header says width x height (1-bit grey) and whose data is a few rows of zeros: a few hundred
    bytes on disk, width x height bytes once decoded as PIL decodes it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"\0" * ((width + 7) // 8 + 1) * 8)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


def record(rid: str, image: str) -> str:
    return json.dumps({"id": rid, "images": [image], "prompt": "<image>\nWhat colour?", "chosen": "Red.",
                       "rejected": "Blue."}) + "\n"


@pytest.mark.parametrize("side", [10_000, 20_000])  # over max_image_pixels; over twice PIL's own limit too
def test_a_bomb_is_refused_before_it_is_decoded(tmp_path, side):
    png_bomb(tmp_path / "bomb.png", side, side)
    assert (tmp_path / "bomb.png").stat().st_size < 10_000
    with pytest.raises(RecordProblem) as caught:
        open_image(tmp_path / "bomb.png", "img/bomb.png")
    assert caught.value.reason == "image_too_large"
    assert f"{side * side:,} pixels" in caught.value.message and "max_image_pixels (89,478,485)" in caught.value.message


def test_the_limit_is_a_setting(tmp_path):
    Image.new("RGB", (40, 30)).save(tmp_path / "a.png")
    open_image(tmp_path / "a.png", "a.png").close()
    set_max_image_pixels(1000)
    with pytest.raises(RecordProblem, match=r"'a.png' is 40 x 30 = 1,200 pixels, more than max_image_pixels \(1,000\)"):
        open_image(tmp_path / "a.png", "a.png")
    for wrong in (0, -5, 1.5, True, "many"):
        with pytest.raises(ConfigError, match="max_image_pixels"):
            set_max_image_pixels(wrong)


def test_data_validate_names_the_record_and_the_collator_refuses_it(tmp_path, capsys):
    (tmp_path / "img").mkdir()
    Image.new("RGB", (32, 32), "red").save(tmp_path / "img" / "ok.png")
    png_bomb(tmp_path / "img" / "bomb.png", 12_000, 12_000)
    data = tmp_path / "pairs.jsonl"
    data.write_text(record("ok", "img/ok.png") + record("bomb", "img/bomb.png") + record("ok2", "img/ok.png"))
    assert main(["data", "validate", "--data", str(data)]) == 1
    out = capsys.readouterr().out
    assert f"{data}:2:" in out and "144,000,000 pixels" in out and "image_too_large: 1" in out
    assert main(["data", "validate", "--data", str(data), "--max-image-pixels", "1000"]) == 1
    assert "image_too_large: 3" in capsys.readouterr().out  # 32 x 32 = 1,024: every image now
    # the collator (training, generate, judges) refuses it the same way: a bad record under on_bad_record
    from mmalign.data.collate import load_image

    with pytest.raises(RecordProblem, match="144,000,000 pixels"):
        load_image(tmp_path, "img/bomb.png")


def test_mmalign_train_stops_at_a_bomb_with_file_and_line_or_skips_it(tmp_path, tiny_llava_path, capsys):
    (tmp_path / "img").mkdir()
    Image.new("RGB", (32, 32), "red").save(tmp_path / "img" / "ok.png")
    png_bomb(tmp_path / "img" / "bomb.png", 12_000, 12_000)
    data = tmp_path / "pairs.jsonl"
    data.write_text(record("ok", "img/ok.png") + record("bomb", "img/bomb.png"))
    config = tmp_path / "c.yaml"
    config.write_text(f"model: {tiny_llava_path}\ndata: {data}\noutput_dir: {tmp_path / 'run'}\nmax_steps: 1\n"
                      "per_device_batch_size: 1\nmax_length: 64\nprogress: false\n")
    assert main(["train", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"{data}:2:" in err and "144,000,000 pixels" in err and "Traceback" not in err
    assert main(["train", str(config), "on_bad_record=skip", "overwrite=true"]) == 0  # counted, and left out
    assert "skipped 1 bad record(s) (image_too_large: 1)" in capsys.readouterr().out
