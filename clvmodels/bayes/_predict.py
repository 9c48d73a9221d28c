"""Posterior predictions: the numpy prediction functions evaluated per draw on distinct histories.

Customers with the same history get the same prediction for every draw, so a quantity is computed
for the distinct histories only and scattered back. The draws are broadcast as a column (shape
``(S, 1)``, one parameter each) against a chunk of histories (shape ``(m,)``), so each chunk is one
vectorised call of the maths in :mod:`clvmodels.likelihoods`; the chunk length keeps
``S x m x horizons`` near :data:`CHUNK_CELLS` numbers, which bounds the memory whatever the
number of customers (per customer only the four summary columns are kept).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .. import _checks

#: Values (draws x histories x horizons) evaluated at once: about 16 MB per temporary array.
CHUNK_CELLS = 2_000_000
#: Largest draws x customers array returned by ``prediction_draws`` without ``max_cells``.
MAX_DRAW_CELLS = 50_000_000


def distinct(columns: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Distinct rows of ``columns`` and, per original row, the index of its distinct row.

    The distinct rows are ordered by ``frequency`` and then ``T`` where present, so a chunk of
    consecutive rows holds few distinct ``(frequency, T)`` pairs (see :func:`by_pairs`).
    """
    frame = pd.DataFrame(columns)
    codes = frame.groupby(list(columns), sort=False).ngroup().to_numpy()
    first = np.unique(codes, return_index=True)[1]
    unique = {c: v[first] for c, v in columns.items()}
    keys = [unique[c] for c in ("T", "frequency") if c in unique]
    if keys:
        order = np.lexsort(keys)
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        unique, codes = {c: v[order] for c, v in unique.items()}, rank[codes]
    return unique, codes


def by_pairs(expected_purchases, probability_alive, t):
    """Expected purchases in ``t`` with the costly part evaluated once per ``(frequency, T)`` pair.

    Under the purchase models here, a customer known to be alive at ``T`` has a future that
    depends on the history through ``(x, T)`` only, so
    ``E[X(t) | x, t_x, T] = P(alive | x, t_x, T) * E[X(t) | alive, x, T]`` (eq. 10 of Fader,
    Hardie & Lee 2005 for BG/NBD); the second factor is ``E[X(t) | x, T, T] / P(alive | x, T, T)``.
    Returns ``f(params, columns) -> (S, m)`` for :func:`summarise`; equal to the direct formula
    (tested).
    """
    def expected(params, c):
        pairs, codes = distinct({"frequency": c["frequency"], "T": c["T"]})
        x, T = pairs["frequency"], pairs["T"]
        given_alive = expected_purchases(params, t, x, T, T) / probability_alive(params, x, T, T)
        return given_alive[..., codes] * probability_alive(params, c["frequency"], c["recency"], c["T"])

    return expected


def _evaluator(func: Callable, draws: np.ndarray, groups: np.ndarray | None):
    """``chunk -> values (S, m)`` over all draws, evaluating each group of draws separately.

    Some maths takes a slow branch for a whole array when any element needs it (BG/NBD's
    ``expected_purchases`` interpolates near ``a = 1`` on the full array), so the draws that need
    it are evaluated apart. Returns the evaluator and the draw order of its rows.
    """
    if groups is None or groups.all() or not groups.any():
        order = np.arange(len(draws))
        blocks = [order]
    else:
        blocks = [np.flatnonzero(~groups), np.flatnonzero(groups)]
        order = np.concatenate(blocks)
    params = [tuple(draws[block][:, [j]] for j in range(draws.shape[1])) for block in blocks]

    def evaluate(chunk):
        with np.errstate(all="ignore"):
            return np.concatenate([func(p, chunk) for p in params], axis=0)

    return evaluate, order


def interval_columns(ci_level: float) -> tuple[str, str]:
    label = f"{100 * ci_level:g}%"
    return f"lower {label}", f"upper {label}"


def summarise(func: Callable, draws: np.ndarray, columns: dict[str, np.ndarray], *, ci_level: float,
              index, name: str, cells_per_value: int = 1, groups: np.ndarray | None = None) -> pd.DataFrame:
    """Posterior mean, sd and equal-tailed interval of ``func`` per customer.

    Parameters
    ----------
    func : callable
        ``func(params, columns_chunk) -> array (S, m)``; ``params`` is a tuple of ``(S, 1)`` arrays.
    draws : numpy.ndarray
        Parameter draws, shape ``(S, k)``.
    columns : dict of numpy.ndarray
        The customers' summary columns (length ``n``).
    cells_per_value : int
        Extra size factor of one evaluation (the number of horizons for CLV).
    groups : numpy.ndarray of bool, optional
        Draws to evaluate apart from the others (see :func:`_evaluator`).
    """
    unique, codes = distinct(columns)
    m = len(next(iter(unique.values()))) if unique else 0
    stats = Summary(m, ci_level)
    evaluate, _ = _evaluator(func, draws, groups)
    chunk = max(1, CHUNK_CELLS // (len(draws) * cells_per_value))
    for start in range(0, m, chunk):
        rows = slice(start, min(start + chunk, m))
        stats.add(rows, evaluate({c: v[rows] for c, v in unique.items()}))
    return stats.table(codes, index=index, name=name, n_draws=len(draws))


class Summary:
    """Mean, sd and equal-tailed interval per distinct row, filled block by block."""

    def __init__(self, m: int, ci_level: float):
        self.ci_level = _checks.level(ci_level)
        self.out = np.empty((4, m))

    def add(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Statistics over the draws (axis 0) of ``values`` for the distinct ``rows``."""
        self.out[0, rows] = values.mean(axis=0)
        self.out[1, rows] = values.std(axis=0)
        self.out[2:, rows] = np.percentile(values, [50 * (1 - self.ci_level), 50 * (1 + self.ci_level)], axis=0)

    def table(self, codes: np.ndarray, *, index, name: str, n_draws: int) -> pd.DataFrame:
        """One row per customer (``codes``: each customer's distinct row)."""
        lower, upper = interval_columns(self.ci_level)
        out = self.out
        table = pd.DataFrame({"mean": out[0, codes], "sd": out[1, codes], lower: out[2, codes],
                              upper: out[3, codes]}, index=index)
        table.attrs.update({"quantity": name, "ci_level": self.ci_level, "n_draws": n_draws})
        return table


def check_draw_cells(n_draws: int, n: int, max_cells: int | None) -> None:
    """Refuse a draws x customers table larger than ``max_cells`` (default :data:`MAX_DRAW_CELLS`)."""
    limit = MAX_DRAW_CELLS if max_cells is None else max_cells
    if n_draws * n > limit:
        raise ValueError(f"{n_draws} draws x {n} customers = {n_draws * n:,} values exceeds "
                         f"max_cells={limit:,}: pass a subset of customers (e.g. data.head(1000)), fewer "
                         "draws (n_draws=...), or a larger max_cells=.")


def all_draws(func: Callable, draws: np.ndarray, columns: dict[str, np.ndarray], *, index,
              max_cells: int | None = None, groups: np.ndarray | None = None) -> pd.DataFrame:
    """Every draw of ``func`` for every customer: a ``(S, n)`` table (columns: the customers)."""
    n = len(index)
    check_draw_cells(len(draws), n, max_cells)
    unique, codes = distinct(columns)
    evaluate, order = _evaluator(func, draws, groups)
    values = np.empty((len(draws), n))
    values[order] = evaluate(unique)[:, codes]
    return pd.DataFrame(values, columns=index)


def thin(draws: np.ndarray, n_draws: int | None, random_state) -> np.ndarray:
    """``n_draws`` of the rows of ``draws`` chosen at random without replacement (all if None)."""
    if n_draws is None:
        return draws
    n_draws = _checks.draw_count(n_draws)
    if n_draws >= len(draws):
        return draws
    rng = np.random.default_rng(random_state)
    return draws[np.sort(rng.choice(len(draws), int(n_draws), replace=False))]


class Predictions:
    """Mixin of the Bayesian models: draw selection and the prediction methods' common path."""

    def _slow_draws(self, draws: np.ndarray) -> np.ndarray | None:
        """Draws the prediction maths handles by a slow branch, evaluated apart (None: no such)."""
        return None

    def _draw_matrix(self, n_draws, random_state) -> np.ndarray:
        draws = self.posterior_draws()[list(self.param_names)].to_numpy()
        seed = self.random_seed if random_state is None else random_state
        return thin(draws, n_draws, seed)

    def _predict(self, name, func, data, *, ci_level, n_draws, random_state):
        frame, columns = self._prediction_columns(data)
        draws = self._draw_matrix(n_draws, random_state)
        return summarise(func, draws, columns, ci_level=self.ci_level if ci_level is None else ci_level,
                         index=frame.index, name=name, groups=self._slow_draws(draws))

    def prediction_draws(self, quantity: str, data, *args, n_draws=None, random_state=None,
                         max_cells=None) -> pd.DataFrame:
        """Every posterior draw of a prediction for a (small) set of customers.

        Parameters
        ----------
        quantity : str
            Name of a prediction method, e.g. ``"probability_alive"``, ``"expected_purchases"``
            or ``"expected_spend"``.
        data : pandas.DataFrame
            The customers; ``draws x customers`` may not exceed ``max_cells`` (50 million by
            default), so pass a subset for large bases.
        *args
            Passed on (the horizon ``t`` of ``expected_purchases``).

        Returns
        -------
        pandas.DataFrame
            One row per draw, one column per customer (labelled by ``data``'s index).
        """
        func = self._quantities(*args).get(quantity)
        if func is None:
            raise ValueError(f"quantity must be one of {sorted(self._quantities(*args))}, got {quantity!r}.")
        frame, columns = self._prediction_columns(data)
        draws = self._draw_matrix(n_draws, random_state)
        return all_draws(func, draws, columns, index=frame.index, max_cells=max_cells,
                         groups=self._slow_draws(draws))

    def _prediction_columns(self, data):
        self._require_fitted()
        frame, columns = self._mle()._columns(data)
        return frame, columns


def per_draw(func):
    """``func`` for maths that takes scalar parameters only: one vectorised call per draw."""
    def looped(params, *args):
        return np.stack([func(tuple(p[s, 0] for p in params), *args) for s in range(len(params[0]))])

    return looped
