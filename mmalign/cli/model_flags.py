"""`--trust-remote-code`, for the commands that load models by path or name (generate, score, eval,
build-data, data probe/did, rubrics build); `mmalign train` takes the config key of the same name."""

from __future__ import annotations

import argparse

from ..models.load import allow_remote_code


def add_trust_remote_code(parser) -> None:
    """Add the flag to an argparse parser or argument group."""
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="run Python code that a model's folder or hub repo ships (config.json's auto_map); "
                             "only for models whose code you have read (default: such models are refused)")


def apply_trust_remote_code(args: argparse.Namespace) -> None:
    allow_remote_code(getattr(args, "trust_remote_code", False))
