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
            bad = sorted(set(opts) - set(options))
            if bad:
                listing = ", ".join(f"{k}={v!r}" for k, v in options.items()) or "(none)"
                raise ValueError(f"transform {name!r} has no option {', '.join(bad)}; valid: {listing}")
            return fn(copy.deepcopy(list(records)), **opts)

        if name in _TRANSFORMS:
            raise ValueError(f"transform {name!r} registered twice")
        pure.options = options  # type: ignore[attr-defined]
        _TRANSFORMS[name] = pure
        return pure

    return decorate


def apply_transforms(records: Records, specs: list[dict[str, Any]]) -> Records:
    """Run transforms in order: `specs = [{"name": "fdpo_flip"}, {"name": "score_gap_filter", "threshold": 2}]`."""
    out = copy.deepcopy(list(records))
    for spec in specs:
        spec = dict(spec)
        if "name" not in spec:
            raise ValueError(f"transform spec needs a 'name'; valid transforms: {', '.join(available_transforms())}")
        out = _lookup(spec.pop("name"))(out, **spec)
    return out
