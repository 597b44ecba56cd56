"""Apply the config's dataset transforms to a JSONL file and write the result beside the run."""

from __future__ import annotations

from pathlib import Path

from ..data.transforms import apply_transforms
from ..errors import ConfigError
from ..io import read_jsonl, write_jsonl_atomic


def transform_file(source: Path, specs: list[dict], target: Path) -> Path:
    """Read `source`, run the transforms, write `target` (atomically). The source is never modified."""
    rows = read_jsonl(source)
    try:
        out = apply_transforms(rows, specs)
    except ValueError as exc:
        raise ConfigError(f"transforms: {exc}") from None
    write_jsonl_atomic(target, out)
    return target
