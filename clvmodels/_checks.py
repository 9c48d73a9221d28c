"""Checks of function arguments and model settings, shared by the estimators and the prediction API.

Each check returns the value in its working type (``float``, ``int``, array) or raises one
:class:`~clvmodels.exceptions.InvalidArgumentError` (a ``ValueError``) whose message starts with the
argument's name, then states the rule, the value received and, where it helps, the remedy, e.g.
``"ci_level must be a number between 0 and 1 (exclusive); got 95. For a 95% level use 0.95."``.
Messages start with the name so that the batch config can prefix its location
(``models[0].options.ci_level: must be ...``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from .exceptions import InvalidArgumentError

#: The largest CLV horizon in months (100 years); the batch config has the same limit.
MAX_HORIZON_MONTHS = 1200
#: The most parameter or posterior draws a prediction interval takes; the batch config has the same.
MAX_DRAWS = 100_000


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _shown(values: np.ndarray, bad: np.ndarray) -> str:
    """The first few offending values of an array, and how many there are."""
    wrong = np.atleast_1d(values)[np.atleast_1d(bad)]
    listed = ", ".join(f"{v:g}" for v in wrong[:5])
    return f"{listed}" if len(wrong) <= 5 else f"{listed}, ... ({len(wrong)} values)"


def level(value, *, name: str = "ci_level", example: str = "0.95 for 95% intervals") -> float:
    """A probability strictly between 0 and 1 (``ci_level``); a level given in percent gets a hint."""
    if not _is_number(value) or not 0 < value < 1:
        percent = _is_number(value) and 1 < value < 100 and name == "ci_level"
        hint = f" For a {value:g}% level use {value / 100:g}." if percent else f" E.g. {example}."
        raise InvalidArgumentError(f"{name} must be a number between 0 and 1 (exclusive); got {value!r}.{hint}")
    return float(value)


def positive_int(value, *, name: str, maximum: int | None = None, what: str = "", minimum: int = 1) -> int:
    """A whole number of at least ``minimum`` (1 by default) and at most ``maximum``; not a bool.

    Floats with a whole value (``12.0``) are accepted, as YAML and JSON may give them.
    """
    unit = f" ({what})" if what else ""
    whole = _is_number(value) and math.isfinite(value) and value == int(value)
    if not whole or value < minimum:
        raise InvalidArgumentError(f"{name} must be a whole number of at least {minimum}{unit}; got {value!r}.")
    if maximum is not None and value > maximum:
        raise InvalidArgumentError(f"{name} must be at most {maximum:,}{unit}; got {value!r}. Ask for fewer, "
                                   "or split the work.")
    return int(value)


def number(value, *, name: str, minimum: float | None = None, strict: bool = False, rule: str = "") -> float:
    """A finite real number, at least (``strict``: above) ``minimum`` where given.

    ``rule`` replaces the default description of the allowed range in the message.
    """
    ok = _is_number(value) and math.isfinite(value)
    if ok and minimum is not None:
        ok = value > minimum if strict else value >= minimum
    if not ok:
        if not rule:
            rule = "a finite number" if minimum is None else \
                f"a finite number {'above' if strict else 'of at least'} {minimum:g}"
        raise InvalidArgumentError(f"{name} must be {rule}; got {value!r}.")
    return float(value)


def numbers(values, *, name: str, minimum: float | None = None, rule: str = "") -> np.ndarray:
    """Finite real numbers (a scalar or an array), each at least ``minimum`` where given."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):  # ragged sequences
        array = np.asarray([None])
    if array.dtype.kind not in "iuf":  # text, None, bools, objects: not numbers, even where float() takes them
        raise InvalidArgumentError(f"{name} must be {rule or 'finite numbers'}; got {values!r}.")
    array = array.astype(float)
    bad = ~np.isfinite(array)
    if minimum is not None:
        bad |= ~(array >= minimum)
    if np.any(bad):
        if not rule:
            rule = "finite numbers" if minimum is None else f"finite numbers of at least {minimum:g}"
        raise InvalidArgumentError(f"{name} must be {rule}; got {_shown(array, bad)}.")
    return array


def times(t, *, name: str = "t") -> np.ndarray:
    """Time horizons: finite and non-negative (a scalar or an array), in the data's time unit."""
    return numbers(t, name=name, minimum=0.0,
                   rule="finite non-negative times in the data's time unit (e.g. 52 for a year of weeks)")


def choice(value, choices: Iterable[str], *, name: str) -> str:
    """One of ``choices`` (strings)."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        listed = " or ".join(map(repr, choices)) if len(choices) <= 2 else \
            "one of " + ", ".join(map(repr, choices))
        raise InvalidArgumentError(f"{name} must be {listed}; got {value!r}.")
    return value


def start_values(start, param_names: tuple[str, ...], *, name: str = "start") -> dict[str, float] | None:
    """Starting values for an optimiser: None, or a mapping of known parameter names to positive
    finite numbers."""
    if start is None:
        return None
    names = ", ".join(param_names)
    if not isinstance(start, Mapping):
        raise InvalidArgumentError(f"{name} must map parameter names ({names}) to positive numbers, "
                                   f"e.g. {{{param_names[0]!r}: 0.5}}; got {start!r}.")
    unknown = [k for k in start if k not in param_names]
    if unknown:
        raise InvalidArgumentError(f"{name} names {unknown}, which are not parameters of this model "
                                   f"(its parameters: {names}).")
    bad = {k: v for k, v in start.items() if not _is_number(v) or not math.isfinite(v) or v <= 0}
    if bad:
        raise InvalidArgumentError(f"{name} values must be positive finite numbers; got {bad}.")
    return {k: float(v) for k, v in start.items()}


def clv_arguments(horizon_months, discount_rate, margin, month_length=None) -> tuple[int, float, float, float | None]:
    """The arguments every CLV function shares, checked: ``(horizon_months, discount_rate, margin,
    month_length)``.

    ``horizon_months`` is a whole number from 1 to :data:`MAX_HORIZON_MONTHS`; ``discount_rate``
    (per month) finite and 0 or more; ``margin`` finite and above 0 (as the batch config's
    ``predictions.clv.margin``); ``month_length`` None
    or positive and finite.
    """
    months = positive_int(horizon_months, name="horizon_months", maximum=MAX_HORIZON_MONTHS, what="months")
    rate = number(discount_rate, name="discount_rate", minimum=0.0,
                  rule="a finite monthly rate of 0 or more (e.g. 0.01 for about 12.7% a year)")
    margin = number(margin, name="margin", minimum=0.0, strict=True,
                    rule="a finite number above 0 (the share of revenue that is profit, e.g. 0.3)")
    if month_length is not None:
        month_length = number(month_length, name="month_length", minimum=0.0, strict=True,
                              rule="a positive finite month length in the model's time unit (e.g. 4.345 weeks)")
    return months, rate, margin, month_length


#: Relative tolerance of the covariance checks (symmetry, smallest eigenvalue), far above rounding
#: in a saved covariance (floats written with repr round-trip exactly) and far below any real defect.
COVARIANCE_TOLERANCE = 1e-8


def covariance_problem(cov, names, *, max_variance: float | None = None) -> str | None:
    """What is wrong with a parameter covariance (nested lists, None or NaN for unknown), or None.

    A covariance with unknown entries (None/NaN) is accepted as unknown (no intervals can be drawn
    from it); a known one must be a symmetric positive semi-definite matrix of finite numbers: a square matrix of the parameters' size, symmetric
    within :data:`COVARIANCE_TOLERANCE` of its largest entry, a diagonal (the variances) of 0 or
    more (at most ``max_variance`` where given), and eigenvalues of at least ``-tolerance * largest``. Anything else would give NaN
    standard errors or make drawing parameters fail.
    """
    matrix = np.array([[np.nan if v is None else v for v in row] for row in cov], dtype=float)
    k = len(names)
    if matrix.shape != (k, k):
        return f"covariance must be {k} x {k} (one row and column per parameter {names}); got shape {matrix.shape}"
    if np.isnan(matrix).any():  # unknown entries: no intervals are drawn from it (parameter_draws says so)
        return None
    if not np.all(np.isfinite(matrix)):
        return "covariance entries must be finite"
    negative = [names[i] for i in np.flatnonzero(np.diag(matrix) < 0)]
    if negative:
        return f"covariance has negative variances (diagonal entries) for {negative}"
    if max_variance is not None:
        huge = [names[i] for i in np.flatnonzero(np.diag(matrix) > max_variance)]
        if huge:
            return (f"covariance has variances above {max_variance:.3g} for {huge} (standard errors beyond "
                    f"{np.sqrt(max_variance):.3g}), more than any fit reports")
    scale = float(np.max(np.abs(matrix)))
    if scale == 0:
        return None
    asymmetry = float(np.max(np.abs(matrix - matrix.T)))
    if asymmetry > COVARIANCE_TOLERANCE * scale:
        return f"covariance is not symmetric (entries differ from their transposes by up to {asymmetry:.3g})"
    smallest = float(np.linalg.eigvalsh((matrix + matrix.T) / 2).min())
    if smallest < -COVARIANCE_TOLERANCE * scale:
        return (f"covariance is not positive semi-definite (smallest eigenvalue {smallest:.3g}, largest entry "
                f"{scale:.3g}), so it is not the covariance of any estimate")
    return None


def draw_count(n_draws, *, name: str = "n_draws") -> int:
    """A number of draws: a whole number from 1 to :data:`MAX_DRAWS`."""
    return positive_int(n_draws, name=name, maximum=MAX_DRAWS, what="draws")
