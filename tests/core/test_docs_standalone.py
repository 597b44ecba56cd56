"""The docs stand alone in the repository: no pointers to files outside it (the design notes and research
notes a clone does not have), no internal issue numbers, and every relative link resolves. The code's
docstrings and comments and the scripts point only to files in the repository too (docs/research/, not
research/)."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md")), *sorted((REPO / "configs").rglob("*.yaml"))]
OUTSIDE = re.compile(r"shared/|DESIGN\.md|\.ci/|\b[Ii]ssue \d+")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
CODE = [*sorted((REPO / "mmalign").rglob("*.py")), *sorted(p for p in (REPO / "scripts").iterdir() if p.is_file())]
# Research notes live in docs/research/; a bare research/... or shared/... path is a copy outside the clone.
CODE_OUTSIDE = re.compile(r"shared/|DESIGN\.md|(?<!docs/)\bresearch/")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_pointer_outside_the_repository(path):
    hits = [f"{path.name}:{n}: {line.strip()}" for n, line in enumerate(path.read_text().splitlines(), 1)
            if OUTSIDE.search(line)]
    assert not hits


@pytest.mark.parametrize("path", [p for p in DOCS if p.suffix == ".md"], ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(path):
    missing = [target for target in LINK.findall(path.read_text())
               if "://" not in target and not (path.parent / target).exists()]
    assert not missing


@pytest.mark.parametrize("path", CODE, ids=lambda p: str(p.relative_to(REPO)))
def test_code_points_inside_the_repository(path):
    hits = [f"{path.name}:{n}: {line.strip()}" for n, line in enumerate(path.read_text().splitlines(), 1)
            if CODE_OUTSIDE.search(line)]
    assert not hits
