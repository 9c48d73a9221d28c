"""Fitting on sufficient statistics with covariates: customers with the same history and the same
covariate pattern collapse into one row with a count."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from .design import CovariateMatrices


def _row_key(columns: Sequence[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row the number of its distinct combination of ``columns`` (in order of appearance), and
    the first row of each: hash-numbered column by column, renumbered after each step so that the
    key stays below ``n`` (no overflow), with no loop over rows."""
    key, size = np.zeros(n, dtype=np.int64), 1
    for values in columns:
        codes, uniques = pd.factorize(values)
        if size * max(len(uniques), 1) >= 2**62:  # renumber only where the key would overflow
            key, distinct = pd.factorize(key)
            size = len(distinct)
        key = key * len(uniques) + codes
        size *= max(len(uniques), 1)
    if columns:
        key, _ = pd.factorize(key)
    # numbers come in order of appearance: a row is the first of its key where the key exceeds
    # every key before it
    first = np.flatnonzero(np.r_[True, key[1:] > np.maximum.accumulate(key)[:-1]]) if n else np.zeros(0, np.intp)
    return key, first


@dataclass(frozen=True)
class CompressedRows:
    """Customers collapsed on (history, covariate pattern).

    Attributes
    ----------
    history : dict of str to numpy.ndarray
        The distinct rows' history columns, in the order of the input.
    design : CovariateMatrices
        Their design matrices.
    counts : numpy.ndarray
        Customers (summed weights) per distinct row.
    inverse : numpy.ndarray
        For each input row, its distinct row: ``values[inverse]`` expands a per-distinct-row result
        back to the input rows (:meth:`expand`).
    """

    history: dict[str, np.ndarray]
    design: CovariateMatrices
    counts: np.ndarray
    inverse: np.ndarray

    def expand(self, values) -> np.ndarray:
        """Per-row values (first axis the distinct rows) spread back to every input row."""
        return np.asarray(values)[self.inverse]


def compress_rows(history: Mapping[str, np.ndarray], design: CovariateMatrices, weights=None) -> CompressedRows:
    """Collapse customers with the same history and the same covariates into one row with a count.

    The likelihood of a customer depends on the history columns and the design rows only, so
    summing it over the distinct rows times their counts is exact. Each column is numbered by a
    hash table (``pandas.factorize``) and the numbers combine column by column into one key per row,
    renumbered after each step so that it stays below the row count (no overflow, no loop over
    customers). The distinct rows come sorted by their values, so that the same customers in any
    order give the same rows.

    Parameters
    ----------
    history : mapping of str to numpy.ndarray
        The model's data columns (e.g. ``frequency``, ``recency``, ``T``), equal lengths.
    design : CovariateMatrices
        The customers' design (:meth:`CovariateDesign.transform`), same rows.
    weights : array_like, optional
        Customers per input row (a summary already compressed on its history); 1 each by default.

    Returns
    -------
    CompressedRows
    """
    columns = [np.asarray(v, dtype=float) for v in history.values()]
    columns += [X[:, j] for X in design.matrices.values() for j in range(X.shape[1])]
    n = design.n_rows if design.matrices else len(columns[0])
    if any(len(c) != n for c in columns):
        raise InvalidArgumentError(f"history and design must have the same rows; got lengths "
                                   f"{sorted({len(c) for c in columns})}.")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    key, first = _row_key(columns, n)
    n_distinct = len(first)
    order = np.lexsort([c[first] for c in reversed(columns)]) if columns else np.arange(n_distinct)
    rank = np.empty(n_distinct, dtype=np.intp)
    rank[order] = np.arange(n_distinct)
    inverse = rank[key]
    rows = first[order]
    counts = np.bincount(inverse, weights=w, minlength=n_distinct)
    unique = {name: np.asarray(v, dtype=float)[rows] for name, v in history.items()}
    return CompressedRows(unique, design.take(rows), counts, inverse)
