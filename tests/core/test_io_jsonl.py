"""mmalign.io: what write_jsonl_atomic writes, read_jsonl reads back; blank lines are skipped, limit counts rows."""

from mmalign.io import read_jsonl, write_jsonl_atomic


def test_read_jsonl_round_trip_blank_lines_and_limit(tmp_path):
    rows = [{"id": i, "text": f"row {i}"} for i in range(5)]
    path = tmp_path / "sub" / "rows.jsonl"
    write_jsonl_atomic(path, rows)
    assert read_jsonl(path) == rows
    path.write_text(path.read_text().replace("\n", "\n\n", 2))  # two blank lines among the first rows
    assert read_jsonl(path) == rows
    assert read_jsonl(path, 3) == rows[:3]
    assert read_jsonl(path, 0) == []
