"""scripts/plot_demo_ceiling.py: a PNG from good points; a clear file:line error from bad ones."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import plot_demo_ceiling

HEADER = "name,group,single,multi\n"


def test_writes_a_png(tmp_path):
    points = tmp_path / "p.csv"
    points.write_text(HEADER + "base,base,99.8,53.4\nSFT 2000,capacity,77.5,68.0\nK2,dpo,99.8,53.3\n")
    assert plot_demo_ceiling.main([str(points), str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("body, message", [
    ("base,base,99.8,lots\n", r"p\.csv:2: single and multi must be numbers"),
    ("base,base,99.8,53.4\nx,dpo,120,50\n", r"p\.csv:3: accuracies are percentages"),
    ("x,dpo,99.8,53.4\n", r"exactly one row with group 'base', found 0"),
])
def test_bad_rows_name_file_and_line(tmp_path, body, message):
    points = tmp_path / "p.csv"
    points.write_text(HEADER + body)
    with pytest.raises(SystemExit, match=message):
        plot_demo_ceiling.main([str(points), str(tmp_path / "c.png")])
    assert not (tmp_path / "c.png").exists()


def test_wrong_header_is_named(tmp_path):
    points = tmp_path / "p.csv"
    points.write_text("model,single,multi\nbase,99.8,53.4\n")
    with pytest.raises(SystemExit, match=r"p\.csv:1: header must be name,group,single,multi"):
        plot_demo_ceiling.main([str(points), str(tmp_path / "c.png")])
