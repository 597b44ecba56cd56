"""Fixtures of the fuzz tests."""

import pytest


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """One folder per test module for the files the eval fuzz tests write."""
    return tmp_path_factory.mktemp("eval")
