"""A purchase model's predictions over a grid of histories: frequency (rows) by recency (columns).

Every customer observed for the same length ``T`` is described by ``(frequency, recency)``, so one
table shows how P(alive), or the expected number of purchases in the next ``t`` time units,
depends on the two; drawn as a heatmap it is the "P(alive) matrix" and the "frequency/recency
matrix" of lifetimes (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves", draw the
same kind of surface for discounted expected transactions). Cells no customer can be in are NaN: ``recency > T``, and
``recency > 0`` without repeat purchases (recency is 0 by definition then).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import check_max_frequency, check_model

QUANTITIES = {"probability_alive": "P(alive)", "expected_purchases": "expected purchases"}


def _positive(value, name: str, hint: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not np.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive, finite number, got {value!r}. {hint}")
    return number


def prediction_matrix(purchase_model, quantity: str = "probability_alive", *, t: float = 1.0,
                      max_frequency: int | None = None, max_recency: float | None = None,
                      T: float | None = None) -> pd.DataFrame:
    """P(alive) or expected purchases for every ``(frequency, recency)`` at one observation length.

    Parameters
    ----------
    purchase_model : fitted purchase model
        Any model with ``kind == "purchase"``.
    quantity : {"probability_alive", "expected_purchases"}, default "probability_alive"
        ``purchase_model.probability_alive`` (at the end of observation, ``T``) or
        ``purchase_model.expected_purchases(..., t)`` (in ``(T, T + t]``).
    t : float, default 1.0
        Horizon of ``"expected_purchases"``, in the model's time unit; unused for P(alive).
    max_frequency : int
        Largest number of repeat purchases (last row); rows are ``0, 1, ..., max_frequency``.
        Required: the models do not keep their fitting data, so pass e.g.
        ``int(summary["frequency"].max())``.
    max_recency : float
        Largest recency (last column); columns are ``0, 1, ..., floor(max_recency)`` time units.
        Required; e.g. ``summary["T"].max()``.
    T : float, optional
        Observation length shared by every cell, in the model's time unit; default
        ``max_recency``.

    Returns
    -------
    pandas.DataFrame
        Index ``frequency`` (int), columns ``recency`` (int); NaN in the impossible cells
        (``recency > T``, or ``frequency == 0`` with ``recency > 0``). ``attrs`` holds
        ``quantity``, ``t`` (None for P(alive)), ``T``, ``model`` (the registry name) and
        ``time_unit``.

    Notes
    -----
    The possible cells are evaluated in one vectorised call of the model's own prediction method,
    so the values equal the model's predictions for customers with these histories.

    Examples
    --------
    >>> from clvmodels import BetaGeoModel
    >>> from clvmodels.diagnostics import prediction_matrix
    >>> model = BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")
    >>> table = prediction_matrix(model, max_frequency=2, max_recency=3, T=2)
    >>> table.round(3)  # doctest: +NORMALIZE_WHITESPACE
    recency        0      1      2   3
    frequency
    0          1.000    NaN    NaN NaN
    1          0.658  0.712  0.754 NaN
    2          0.651  0.747  0.812 NaN
    """
    check_model(purchase_model, "purchase", argument="purchase_model")
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {sorted(QUANTITIES)}, got {quantity!r}.")
    hint = ("The models do not keep their fitting data: pass e.g. max_frequency=int(summary['frequency'].max()) "
            "and max_recency=summary['T'].max().")
    if max_frequency is None or max_recency is None:
        missing = [n for n, v in (("max_frequency", max_frequency), ("max_recency", max_recency)) if v is None]
        raise ValueError(f"prediction_matrix needs {' and '.join(missing)}. {hint}")
    max_frequency = check_max_frequency(max_frequency)
    max_recency = _positive(max_recency, "max_recency", hint)
    T = max_recency if T is None else _positive(T, "T", "It is the observation length of every cell.")
    if quantity == "expected_purchases":
        t = _positive(t, "t", "It is the horizon of the expected purchases, in the model's time unit.")

    frequency = np.arange(max_frequency + 1, dtype=np.int64)
    recency = np.arange(int(np.floor(max_recency)) + 1, dtype=np.int64)
    x, t_x = np.meshgrid(frequency, recency, indexing="ij")
    possible = (t_x <= T) & ((x > 0) | (t_x == 0))
    cells = pd.DataFrame({"frequency": x[possible].astype(float), "recency": t_x[possible].astype(float),
                          "T": T})
    if quantity == "probability_alive":
        values = purchase_model.probability_alive(cells)
    else:
        values = purchase_model.expected_purchases(cells, t)
    grid = np.full(x.shape, np.nan)
    grid[possible] = np.asarray(values, dtype=float)
    table = pd.DataFrame(grid, index=pd.Index(frequency, name="frequency"),
                         columns=pd.Index(recency, name="recency"))
    table.attrs.update({"quantity": quantity, "t": t if quantity == "expected_purchases" else None, "T": T,
                        "model": getattr(purchase_model, "name", type(purchase_model).__name__),
                        "time_unit": getattr(purchase_model, "time_unit_", None)})
    return table
