"""Named dataset transforms: raw record dicts in, a new list of dicts out.

A transform is a function `fn(records, *, option=default, ...)` registered with `@transform("name")`.
The registered wrapper deep-copies the records first (inputs are never modified) and checks the
options, so a transform body may edit its copy freely. Unknown fields of a record are kept.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable
from typing import Any

from ...config import option_problems

Records = list[dict[str, Any]]
_TRANSFORMS: dict[str, Callable[..., Records]] = {}


def available_transforms() -> list[str]:
    return sorted(_TRANSFORMS)


def transform_options(name: str) -> dict[str, Any]:
    """A transform's options and their defaults."""
    return dict(_lookup(name).options)  # type: ignore[attr-defined]


def _lookup(name: Any) -> Callable[..., Records]:
    if name not in _TRANSFORMS:
        raise ValueError(f"unknown transform {name!r}; valid transforms: {', '.join(available_transforms())}")
    return _TRANSFORMS[name]


def transform(name: str) -> Callable[[Callable[..., Records]], Callable[..., Records]]:
    """Register `fn` under `name`; its keyword-only parameters are its options."""

    def decorate(fn: Callable[..., Records]) -> Callable[..., Records]:
        params = inspect.signature(fn).parameters.values()
        options = {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}

        @functools.wraps(fn)
        def pure(records: Records, **opts: Any) -> Records:
            problems = option_problems(opts, options)
            if problems:
                raise ValueError(f"transform {name!r}: {'; '.join(problems)}")
            bad = sorted(set(opts) - set(options))
            if bad:
                listing = ", ".join(f"{k}={v!r}" for k, v in options.items()) or "(none)"
                raise ValueError(f"transform {name!r} has no option {', '.join(bad)}; valid: {listing}")
            try:
                return fn(copy.deepcopy(list(records)), **opts)
            except TypeError as exc:  # a value the body's own checks did not expect
                raise ValueError(f"transform {name!r}: {exc} (options: {', '.join(sorted(opts)) or 'none'})") \
                    from None

        if name in _TRANSFORMS:
            raise ValueError(f"transform {name!r} registered twice")
        pure.options = options  # type: ignore[attr-defined]
        _TRANSFORMS[name] = pure
        return pure

    return decorate


def apply_transforms(records: Records, specs: list[dict[str, Any]]) -> Records:
    """Run transforms in order: `specs = [{"name": "fdpo_flip"}, {"name": "score_gap_filter", "threshold": 2}]`.
    A spec that is not such a mapping, a name that is not a transform's and an option of the wrong type raise
    ValueError naming the transform (by its place in the list when it has no name) and the key."""
    problem = _specs_problem(specs)
    if problem:
        raise ValueError(problem)
    out = copy.deepcopy(list(records))
    for spec in specs:
        spec = dict(spec)
        out = _lookup(spec.pop("name"))(out, **spec)
    return out


def _specs_problem(specs: Any) -> str | None:
    """What is wrong with the shape of a transform list, or None."""
    if not isinstance(specs, list):
        return f"transforms is a list of {{name: NAME, OPTION: VALUE, ...}}, got {specs!r}"
    for i, spec in enumerate(specs, start=1):
        if not isinstance(spec, dict):
            return f"transform {i} is not a mapping {{name: NAME, OPTION: VALUE, ...}}: got {spec!r}"
        if "name" not in spec:
            return f"transform {i} needs a 'name'; valid transforms: {', '.join(available_transforms())}"
        if not isinstance(spec["name"], str):
            return f"transform {i}: its name is text, got {spec['name']!r}; valid: {', '.join(available_transforms())}"
        not_text = [repr(k) for k in spec if not isinstance(k, str)]
        if not_text:
            return f"transform {spec['name']!r}: option names are text, got {', '.join(not_text)}"
    return None
