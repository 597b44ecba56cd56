"""Render configs/reference.yaml from TrainConfig: every key with its default, type and meaning.

    python -m mmalign.train.reference_doc > configs/reference.yaml
"""

from __future__ import annotations

import dataclasses
import typing

import yaml

from .config import TrainConfig


def _type_text(tp) -> str:
    text = str(tp).replace("typing.", "")
    return getattr(tp, "__name__", text) if typing.get_origin(tp) is None else text


def _render(cls, indent: str = "") -> list[str]:
    hints = typing.get_type_hints(cls)
    lines = []
    for f in dataclasses.fields(cls):
        help_text = f.metadata.get("help", "")
        tp = hints[f.name]
        lines.append(f"{indent}# {help_text} [{_type_text(tp)}]")
        if dataclasses.is_dataclass(tp):
            lines.append(f"{indent}{f.name}:")
            lines += _render(tp, indent + "  ")
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        value = yaml.safe_dump({f.name: default}, default_flow_style=True, width=1000).strip()[1:-1]
        lines.append(f"{indent}{value}")
    return lines


def render_reference() -> str:
    head = ["# Every key `mmalign train CONFIG [key=value ...]` accepts, with its default.",
            "# Generated from mmalign/train/config.py: python -m mmalign.train.reference_doc > configs/reference.yaml",
            ""]
    return "\n".join(head + _render(TrainConfig)) + "\n"


if __name__ == "__main__":
    print(render_reference(), end="")
