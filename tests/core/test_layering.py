"""The package's layering (data flows one way: low packages never import high ones), read from the source
with `ast`.

Function-local imports count like module-level ones: hiding an import inside a function does not
remove the dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "mmalign"

# Packages that sit low in the stack and must not reach up.
LOW = ("losses", "augment", "data")
HIGH = ("train", "eval", "demo", "pairs", "cli")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, imported names) for every import in the file, relative ones resolved."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target, [alias.name for alias in node.names]))
    return found


def _all_imports():
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        for lineno, target, names in _imports(path):
            if target == "mmalign" or target.startswith("mmalign."):
                yield path, module, lineno, target, names


def _subpackage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_import_reader_resolves_relative_imports():
    # The checks below are only as good as this resolution: in mmalign/data/reader.py,
    # `from ..errors import DataError` is mmalign.errors and `from .schema import ...` is mmalign.data.schema.
    found = {(target, tuple(names)) for _, target, names in _imports(PACKAGE / "data" / "reader.py")}
    assert ("mmalign.errors", ("DataError",)) in found
    assert any(target == "mmalign.data.schema" for target, _ in found)
    assert all(not target.startswith(".") for target, _ in found)


def test_only_cli_imports_cli():
    bad = [f"{path}:{line}: imports {target}" for path, module, line, target, _ in _all_imports()
           if _subpackage(target) == "cli" and _subpackage(module) != "cli"]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("low", LOW)
def test_low_packages_do_not_import_high_ones(low):
    bad = [f"{path}:{line}: imports {target}" for path, module, line, target, _ in _all_imports()
           if _subpackage(module) == low and _subpackage(target) in HIGH]
    assert not bad, "\n".join(bad)


def test_no_private_name_is_imported_from_another_package():
    bad = []
    for path, module, line, target, names in _all_imports():
        if _subpackage(target) == _subpackage(module):
            continue
        bad += [f"{path}:{line}: imports {name} from {target}" for name in names
                if name.startswith("_") and not name.endswith("__")]
        if target.rsplit(".", 1)[-1].startswith("_"):
            bad.append(f"{path}:{line}: imports the private module {target}")
    assert not bad, "\n".join(bad)


def test_subpackages_do_not_import_each_other_in_a_circle():
    graph: dict[str, set[str]] = {}
    for _, module, _, target, _ in _all_imports():
        a, b = _subpackage(module), _subpackage(target)
        if a and b and a != b:
            graph.setdefault(a, set()).add(b)
    cycles = _cycles(graph)
    assert not cycles, f"subpackage import cycles: {cycles}"


def test_demo_modules_do_not_import_each_other_in_a_circle():
    graph: dict[str, set[str]] = {}
    for _, module, _, target, _ in _all_imports():
        if module.startswith("mmalign.demo.") and target.startswith("mmalign.demo."):
            graph.setdefault(module, set()).add(target)
    cycles = _cycles(graph)
    assert not cycles, f"demo import cycles: {cycles}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected set of nodes that has one (depth-first search)."""
    found, done = [], set()

    def visit(node, stack):
        if node in stack:
            found.append(stack[stack.index(node):] + [node])
            return
        if node in done:
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, stack + [node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}})
    assert not _cycles({"a": {"b"}, "b": {"c"}})


# The layers as README.md "Layout" lists them, lowest first: each imports only from layers before it.
ORDER = ("errors", "faults", "io", "config", "progress", "augment", "data", "losses", "models", "judge", "select", "pairs",
         "rubrics", "train", "recipe", "diagnose", "eval", "bench", "demo", "cli")


def test_every_import_goes_down_the_documented_layers():
    rank = {name: i for i, name in enumerate(ORDER)}
    bad = []
    for path, module, line, target, _ in _all_imports():
        a, b = _subpackage(module), _subpackage(target)
        if not b or a == b:
            continue  # the package root (__version__) and imports within a layer
        assert a in rank and b in rank, f"{path}: a layer missing from ORDER ({a} or {b}): add it and to README"
        if rank[b] > rank[a]:
            bad.append(f"{path}:{line}: {a} imports {target}, a higher layer")
    assert not bad, "\n".join(bad)
