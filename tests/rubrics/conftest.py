"""The fake-model fixtures of rubric_fakes, for every test here."""

from rubric_fakes import by_rule, no_loading, scripted  # noqa: F401
