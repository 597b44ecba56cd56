"""`--set FIELD=VALUE` for the experiment scripts: a recipe dataclass with some fields overridden, each value
parsed as its field's type (a tuple field takes commas). Shared by reference_probe.py and
video_gain_experiment.py."""

from __future__ import annotations

import sys
from dataclasses import fields, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmalign.errors import MMAlignError


def with_settings(recipe, settings: list[str]):
    """`recipe` with FIELD=VALUE overrides; a bad item is an MMAlignError naming it."""
    names = [f.name for f in fields(recipe)]
    changes = {}
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep or name not in names:
            raise MMAlignError(f"--set {item!r}: expected KEY=VALUE with the KEY a recipe FIELD one of "
                               f"{', '.join(names)}")
        current = getattr(recipe, name)
        kind = (type(current[0]) if current else str) if isinstance(current, tuple) else type(current)
        try:
            parsed = [kind(v) for v in value.split(",") if v] if isinstance(current, tuple) else kind(value)
        except ValueError:
            raise MMAlignError(f"--set {item!r}: {value!r} is not a valid {kind.__name__}") from None
        changes[name] = tuple(parsed) if isinstance(current, tuple) else parsed
    return replace(recipe, **changes)
