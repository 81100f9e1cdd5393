"""Errors that reach users as one clear line (the CLI prints them and exits non-zero)."""


class FpoError(Exception):
    """Base class: the message names the problem and the fix."""


class UsageError(FpoError, ValueError):
    """Bad option values, unknown environments, unusable paths."""


class CheckpointError(FpoError):
    """A checkpoint that is missing, truncated or not ours."""
