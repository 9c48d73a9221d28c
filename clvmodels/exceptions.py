"""One hierarchy for everything clvmodels raises or warns.

Catch :class:`ClvModelsError` for any failure of the library, :class:`DataError` (also a
``ValueError``) for bad input, and filter :class:`ClvModelsWarning` to silence every warning
clvmodels emits in one line::

    warnings.filterwarnings("ignore", category=clvmodels.exceptions.ClvModelsWarning)
"""

from __future__ import annotations

__all__ = [
    "ClvModelsError",
    "DataError",
    "MissingColumnError",
    "InvalidValueError",
    "EmptyDataError",
    "ConfigError",
    "InvalidArgumentError",
    "ModelFileError",
    "ConvergenceError",
    "IdentificationError",
    "JobInterrupted",
    "NotFittedError",
    "ClvModelsWarning",
    "BoundaryWarning",
    "AssumptionWarning",
    "ExcludedRowsWarning",
    "IdentificationWarning",
]


class ClvModelsError(Exception):
    """Base class of every error raised by clvmodels."""


class DataError(ClvModelsError, ValueError):
    """The input data break a rule; the message names the column, the rule and the rows."""


class MissingColumnError(DataError, KeyError):
    """A required column is absent from the input."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class InvalidValueError(DataError):
    """Some values in a column are missing, unparsable or out of range."""


class EmptyDataError(DataError):
    """The input has no rows left to work with."""


class ConfigError(ClvModelsError, ValueError):
    """A configuration file is invalid; the message lists every problem with its location."""


class InvalidArgumentError(ClvModelsError, ValueError):
    """A function argument or model setting breaks its rule; the message starts with the argument's
    name, then gives the rule, the value received and the remedy."""


class ModelFileError(ClvModelsError, ValueError):
    """A saved model file cannot be read as the requested model."""


class ConvergenceError(ClvModelsError, RuntimeError):
    """The optimiser did not find a maximum of the likelihood."""


class IdentificationError(DataError):
    """The data cannot identify the model's parameters (e.g. no customer ever repeats, or every
    customer was observed for no time); the message says what the data lack."""


class JobInterrupted(BaseException):
    """A batch job was stopped by a signal (SIGTERM from a scheduler, Ctrl-C); not an ``Exception``,
    so that nothing swallows it on its way to the job's failure handling."""

    def __init__(self, signal_name: str):
        super().__init__(f"the job was interrupted by {signal_name}")
        self.signal_name = signal_name


class NotFittedError(ClvModelsError, AttributeError):
    """A prediction was asked of a model that has not been fitted."""


class ClvModelsWarning(UserWarning):
    """Base class of every warning emitted by clvmodels."""


class BoundaryWarning(ClvModelsWarning):
    """A fitted parameter sits at the edge of its space; the message says what that means."""


class AssumptionWarning(ClvModelsWarning):
    """The data look inconsistent with an assumption of the model."""


class ExcludedRowsWarning(ClvModelsWarning):
    """Rows were left out on request; they are counted in the returned report."""


class IdentificationWarning(ClvModelsWarning):
    """A fit went ahead although the data cannot identify its parameters (``on_unidentified="warn"``)."""
