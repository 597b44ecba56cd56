"""The reliability sweep's bookkeeping (scripts/sweep/): hypothesis statistics read per input kind, the
figures tables, and the figures put between the markers of the page without touching its prose."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from sweep import figures, fuzz_stats

STATISTICS = """\
============================ Hypothesis Statistics =============================
tests/fuzz/test_fuzz_records.py::test_parse_record_gives_a_record_or_a_problem:

  - during explicit phase (0.01 seconds):
    - Typical runtimes: ~ 1ms, of which < 1ms in data generation
    - 2 passing, 0 failing, and 0 invalid test cases

  - during generate phase (0.30 seconds):
    - Typical runtimes: ~ 0-5 ms, of which ~ 0-1 ms in data generation
    - 100 passing, 0 failing, and 3 invalid test cases
    - Events:
      * 75.00%, read_records: returned
      * 25.00%, read_records: DataError

tests/fuzz/test_fuzz_config.py::test_parse_override:

  - during generate phase (0.02 seconds):
    - 50 passing, 1 failing, and 0 invalid test cases
"""


def test_statistics_are_read_per_input_kind():
    kinds = fuzz_stats.parse(STATISTICS)
    records = kinds["preference records (JSONL)"]
    assert (records.cases, records.failing, records.tests) == (102, 0, 1)
    assert (records.returned, records.clean_errors) == (75.0, 25.0)
    config = kinds["training configs, overrides, objectives, transforms"]
    assert (config.cases, config.failing) == (51, 1)


def test_the_figures_go_between_the_markers(tmp_path):
    page = tmp_path / "reliability.md"
    page.write_text(f"# Title\n\nprose before\n\n{figures.BEGIN}\nold figures\n{figures.END}\n\nprose after\n")
    tries = [{"command": "eval", "identical": True, "kills": [{"killed": True, "torn": False, "lines": 3},
                                                               {"killed": False, "torn": False, "lines": 8}]},
             {"command": "eval", "identical": False, "kills": [{"killed": True, "torn": True, "lines": 3}]}]
    text = figures.render({"command": "sweep", "date": "today", "machine": "here", "minutes": 1.5,
                           "max_kills": 2, "fuzz_examples": 300, "fuzz_exit": 0, "tries": tries,
                           "fuzz": {k: vars(v) for k, v in fuzz_stats.parse(STATISTICS).items()}})
    figures.splice(page, text)
    figures.splice(page, text)  # twice: still one block
    written = page.read_text()
    assert written.startswith("# Title\n\nprose before\n\n") and written.endswith("\n\nprose after\n")
    assert "old figures" not in written and written.count(figures.BEGIN) == 1
    assert "| `eval` | 2 | 2 | 2 | 1 | 1 | 1 / 2 |" in written
    assert "| **all** | 2 | **153** | 75 | 25 | **1** |" in written
