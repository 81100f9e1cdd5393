"""Errors that reach users as one clear line (the CLI prints them and exits non-zero)."""


class FpoError(Exception):
    """Base class: the message names the problem and the fix."""


class UsageError(FpoError, ValueError):
    """Bad option values, unknown environments, unusable paths."""


class EnvFailed(UsageError):
    """An environment's own ``reset`` or ``step`` raised, or returned what fpo cannot use."""


class CheckpointError(FpoError):
    """A checkpoint that is missing, truncated or not ours."""


class PolicyFileError(FpoError):
    """An exported policy file that is missing, not ONNX, truncated, or disagrees with its metadata."""


class InvalidInputError(FpoError, ValueError):
    """A bad argument at inference time: observation shape, non-finite values, integrator, step count."""


class TrainingDiverged(FpoError):
    """An update left a non-finite loss or weight; nothing from it was saved."""


class RankLost(FpoError):
    """Data-parallel training: a collective operation failed because another rank stopped, failed or hung."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on SIGINT or SIGTERM after saving a checkpoint; the message says where to resume."""
