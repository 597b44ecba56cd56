"""The video bench runs end to end on a tiny shape (no timing assertions)."""

from __future__ import annotations

import json

from mmalign.bench.video import format_table, run_video_bench
from mmalign.cli.bench_video import main
from mmalign.data.video import available_backends


def test_bench_runs_on_a_tiny_shape(tmp_path):
    result = run_video_bench(videos=2, frames=4, px=32, samples=2, repeats=1,
                             perturbations=("reverse", "flip", "other_video"), workdir=tmp_path)
    backends = result["config"]["backends"]
    assert backends == available_backends()
    assert len(result["rows"]) == 4 * len(backends)
    for row in result["rows"]:
        assert row["frames"] == 4 and row["fps"] > 0
    assert {r["kind"] for r in result["rows"]} == {"-", "temporal", "spatial"}
    table = format_table(result)
    assert "reverse" in table and "pyav fr/s" in table


def test_cli_prints_json_and_writes_out(tmp_path, capsys):
    rc = main(["--videos", "1", "--frames", "4", "--px", "16", "--samples", "2", "--repeats", "1",
               "--backends", "pyav", "--perturbations", "grayscale", "--json", "--out", str(tmp_path)])
    assert rc == 0
    printed = json.loads(capsys.readouterr().out)
    assert [r["perturbation"] for r in printed["rows"]] == ["none", "grayscale"]
    assert json.loads((tmp_path / "video_bench.json").read_text())["config"]["backends"] == ["pyav"]


def test_a_backend_that_fails_on_the_clips_is_reported_not_raised():
    if "decord" not in available_backends():
        return
    # decord 0.6.0 cannot copy out 16-px-wide frames ("The size must exactly match"); PyAV can
    result = run_video_bench(videos=1, frames=4, px=16, samples=2, repeats=1, perturbations=())
    assert "decord" in result["failed_backends"] and result["config"]["backends"] == ["pyav"]
