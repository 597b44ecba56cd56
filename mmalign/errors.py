"""User-facing errors. The CLI prints these without a traceback and exits with status 1."""


class MMAlignError(Exception):
    """A mistake in what the user gave us (a file, a config, a flag), with a message that says what to fix."""


class ConfigError(MMAlignError):
    """A config key is unknown, missing or of the wrong type."""


class DataError(MMAlignError):
    """A data file is malformed. The message names the file and line."""
