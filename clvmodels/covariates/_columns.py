"""Reading covariate columns: kinds, levels, encoding to indicators, and the checks on the design
(missing and non-numeric values, identical and collinear columns)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..data.validation import MAX_EXAMPLES
from ..exceptions import InvalidValueError

if TYPE_CHECKING:
    from .design import CovariateColumn

#: The kinds of covariate column.
KINDS = ("numeric", "categorical", "boolean")
#: Prefix of the coefficients of ``equal_covariates`` (shared by both processes).
SHARED = "shared"
_COLLINEAR_TOL = 1e-9  # smallest singular value, relative to the largest, of a full-rank design


def _setting(role: str) -> str:
    return f"{SHARED}_covariates" if role == SHARED else f"{role}_covariates"


def _shown(values) -> str:
    values = list(values)
    text = ", ".join(repr(v) for v in values[:MAX_EXAMPLES])
    return text + (f", ... ({len(values)} in all)" if len(values) > MAX_EXAMPLES else "")


def _json_scalar(value):
    """A level as a plain JSON value (numpy scalars become Python numbers)."""
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value)
    return value



# -- columns ---------------------------------------------------------------------------------------

def _infer_kind(name: str, series: pd.Series) -> str:
    """``numeric``, ``categorical`` or ``boolean`` from the dtype (module docstring)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    values = pd.Series(list(pd.factorize(series)[1]), dtype=object)
    if len(values) == 0:
        return "categorical"
    if values.map(lambda v: isinstance(v, (bool, np.bool_))).all():
        return "boolean"
    is_number = values.map(lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)))
    if is_number.all():
        return "numeric"
    text = values[values.map(lambda v: isinstance(v, str))]
    reads = pd.to_numeric(text, errors="coerce").notna()
    if len(text) == len(values) and reads.all():
        raise InvalidValueError(
            f"column {name!r} holds text that all reads as numbers ({_shown(text.tolist())}): declare "
            f"kinds={{{name!r}: 'numeric'}} to use the numbers, or kinds={{{name!r}: 'categorical'}} for one "
            "indicator per level (or convert the column before fitting).")
    numeric_like = int(is_number.sum() + reads.sum())
    if numeric_like > len(values) - numeric_like:  # mostly numbers, a few words: typos, not labels
        _raise_non_numeric(name, series)
    return "categorical"


def _raise_non_numeric(name: str, series: pd.Series):
    present = series.notna().to_numpy()
    bad = present & pd.to_numeric(series, errors="coerce").isna().to_numpy()
    rows = series[bad]
    raise InvalidValueError(
        f"column {name!r} must hold numbers (it is a numeric covariate), but {int(bad.sum())} of {len(series)} rows "
        f"do not (row: value, first {min(MAX_EXAMPLES, len(rows))}: "
        f"{', '.join(f'{k!r}: {v!r}' for k, v in list(rows.items())[:MAX_EXAMPLES])}). Fix or drop these "
        f"customers, or declare kinds={{{name!r}: 'categorical'}} if the column is a set of labels.")


def _check_missing(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """One error naming every covariate column with missing values, their counts and the first rows."""
    counts, first_rows, any_missing = {}, {}, np.zeros(len(frame), dtype=bool)
    for name in columns:
        missing = frame[name].isna().to_numpy()
        if missing.any():
            counts[name] = int(missing.sum())
            first_rows[name] = list(frame.index[missing][:MAX_EXAMPLES])
            any_missing |= missing
    if counts:
        listed = "; ".join(f"{name!r}: {count} of {len(frame)} rows (first rows: {_shown(first_rows[name])})"
                           for name, count in counts.items())
        raise InvalidValueError(
            f"covariate values must not be missing, but {int(any_missing.sum())} of {len(frame)} customers lack "
            f"some (NaN or empty): {listed}. Fill them (an explicit 'unknown' level for a categorical, or an "
            "imputed value with an indicator column), drop these customers before fitting, or in a batch job "
            "set covariates.on_missing: exclude (excluded customers are counted).")


def _sorted_levels(levels: list) -> tuple:
    try:
        return tuple(sorted(levels))
    except TypeError:  # mixed types: by their text, then type name
        return tuple(sorted(levels, key=lambda v: (str(v), type(v).__name__)))


def _bool_values(name: str, series: pd.Series) -> np.ndarray:
    """The values of a boolean covariate: bools, or the numbers 0 and 1."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=bool)
    values = series.to_numpy(dtype=object)
    ok = np.array([isinstance(v, (bool, np.bool_)) or (isinstance(v, (int, float, np.number)) and v in (0, 1))
                   for v in pd.unique(values)], dtype=bool)
    if not ok.all():
        bad = pd.unique(values)[~ok]
        rows = int(np.isin(values, bad).sum())
        raise InvalidValueError(
            f"column {name!r} must hold True or False (it is a boolean covariate), but {rows} of {len(series)} "
            f"rows do not ({_shown(bad.tolist())}). Fix these customers, or declare kinds={{{name!r}: 'categorical'}}.")
    return values.astype(bool)


def _encode(col: CovariateColumn, frame: pd.DataFrame) -> np.ndarray:
    """The design columns of ``col`` for ``frame``: ``(n, len(col.labels))`` float64."""
    series = frame[col.name]
    if col.kind == "numeric":
        if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
            values = pd.to_numeric(series, errors="coerce")
            if values.isna().any():
                _raise_non_numeric(col.name, series)
            series = values
        values = series.to_numpy(dtype=float)
        infinite = ~np.isfinite(values)
        if infinite.any():
            rows = list(series.index[infinite][:MAX_EXAMPLES])
            raise InvalidValueError(
                f"column {col.name!r}: covariate values must be finite numbers, but {int(infinite.sum())} of "
                f"{len(values)} rows are infinite (first rows: {_shown(rows)}). Fix or drop these customers "
                "(a ratio with a zero denominator?), or cap the column.")
        return values[:, None]
    if col.kind == "boolean":
        series = pd.Series(_bool_values(col.name, series), index=series.index)
    codes, uniques = pd.factorize(series)
    index = pd.Index(list(col.levels), dtype=object).get_indexer(pd.Index(list(uniques), dtype=object))
    unseen = index < 0
    if unseen.any():
        levels = [uniques[i] for i in np.flatnonzero(unseen)]
        count = int(np.isin(codes, np.flatnonzero(unseen)).sum())
        raise InvalidValueError(
            f"column {col.name!r} holds level(s) {_shown(levels)} that the model did not see when it was fitted, "
            f"in {count} of {len(series)} rows; the known levels are {_shown(col.levels)} (reference "
            f"{col.reference!r}). Map them to a known level, drop these customers, or refit the model on data "
            "that include them.")
    level = index[codes]
    return (level[:, None] == np.arange(1, len(col.levels))[None, :]).astype(float)


def _identical_columns(X: np.ndarray):
    """Pairs ``(i, j)``, ``i < j``, of equal columns (candidates by their sums, then compared)."""
    sums = np.column_stack([X.sum(axis=0), (X * X).sum(axis=0)])
    for i in range(X.shape[1]):
        for j in range(i + 1, X.shape[1]):
            if np.array_equal(sums[i], sums[j]) and np.array_equal(X[:, i], X[:, j]):
                yield i, j


def _collinearity(X: np.ndarray) -> list[tuple[int, float]] | None:
    """A linear relation among the columns and the intercept, or None where ``[1, X]`` has full rank.

    With the columns centred, ``[1, X]`` has full rank exactly when the centred ``X`` has; scaled
    to unit length, its smallest singular value against the largest (at least 1) decides. The
    right singular vector of the smallest gives the relation, returned as ``(column, coefficient)``
    in the original units, scaled so that the largest coefficient is 1 in size.
    """
    centred = X - X.mean(axis=0)  # any centre will do: rank([1, X]) = 1 + rank(X - 1 m')
    norms = np.linalg.norm(centred, axis=0)
    if X.shape[0] <= X.shape[1]:  # fewer distinct rows than columns: rank deficient for sure
        centred = np.vstack([centred, np.zeros((X.shape[1] + 1 - X.shape[0], X.shape[1]))])
    _, s, vt = np.linalg.svd(centred / norms, full_matrices=False)
    if s[-1] > _COLLINEAR_TOL * s[0]:
        return None
    v = vt[-1] / norms
    v = v / np.max(np.abs(v))
    return [(j, float(c)) for j, c in enumerate(v) if abs(c) > 1e-6]

