"""Value concentration: how much of the total value the most valuable customers hold.

Customers are sorted by value, highest first; the curve gives, for the top share ``p`` of the
customers, the share ``C(p)`` of the total value they hold (the Lorenz curve turned around:
``C(p) = 1 - L(1 - p)``). It is the "top 20 % of customers bring 80 % of the value" chart, here
for the predicted lifetime values of a purchase model and a spend model. The Gini coefficient
``G = 2 A - 1``, with ``A`` the area under ``C`` (Gini 1912; 0 when everyone is worth the same,
``1 - 1/n`` when one customer holds everything), equals the mean absolute difference of the values
over twice their mean, ``sum_ij |v_i - v_j| / (2 n^2 mean(v))``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import invalid_rows_error
from ..exceptions import EmptyDataError, InvalidValueError

_REMEDY = ("Pass one finite value of 0 or more per customer, e.g. the output of "
           "clvmodels.customer_lifetime_value(); drop or fix these customers first.")


def _values(values) -> np.ndarray:
    series = values if isinstance(values, pd.Series) else None
    if series is None:
        array = np.asarray(values)
        if array.ndim != 1:
            raise InvalidValueError(f"values must be one-dimensional (one value per customer), got an array of "
                                    f"shape {array.shape}.")
        series = pd.Series(array)
    if len(series) == 0:
        raise EmptyDataError("values is empty: there are no customers to rank. Check the filters that "
                             "built it.")
    frame = pd.DataFrame({"value": series})
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(numbers)
    if bad.any():
        raise invalid_rows_error("value", "must be a finite number", bad, frame, _REMEDY)
    if np.any(numbers < 0):
        raise invalid_rows_error("value", "must not be negative (shares of a total need non-negative "
                                 "parts)", numbers < 0, frame, _REMEDY)
    if numbers.sum() <= 0:
        raise InvalidValueError(f"values add up to 0 (all {len(numbers)} are 0), so no customer holds a share "
                                "of the total. Check that the values are the predicted ones.")
    return numbers


def value_concentration(values) -> pd.DataFrame:
    """Share of the total value held by the top customers, and the Gini coefficient.

    Parameters
    ----------
    values : array_like or pandas.Series
        One value per customer (e.g. predicted CLV), finite and not negative, not all 0.

    Returns
    -------
    pandas.DataFrame
        One row per customer, highest value first, index ``rank`` (1, 2, ..., n); columns
        ``value``, ``share_of_customers`` (``rank / n``) and ``share_of_value`` (the cumulative
        value of the top ``rank`` customers over the total). ``attrs`` holds ``n_customers``,
        ``total_value``, ``top_10_share`` and ``top_20_share`` (share of the value held by the top
        10 % and 20 % of customers, interpolated linearly between ranks when ``n`` is not a
        multiple of 10 or 5) and ``gini``.

    Examples
    --------
    >>> from clvmodels.diagnostics import value_concentration
    >>> table = value_concentration([1, 4, 2, 3])
    >>> table["share_of_value"].tolist()
    [0.4, 0.7, 0.9, 1.0]
    >>> round(table.attrs["gini"], 6)
    0.25
    """
    numbers = np.sort(_values(values))[::-1]
    n, total = len(numbers), float(numbers.sum())
    share_of_value = np.cumsum(numbers) / total
    share_of_value[-1] = 1.0  # exactly, whatever the rounding of the running sum
    share_of_customers = np.arange(1, n + 1) / n
    curve_x, curve_y = np.r_[0.0, share_of_customers], np.r_[0.0, share_of_value]
    area = float(np.sum((curve_y[1:] + curve_y[:-1]) / 2) / n)  # trapezoids of width 1/n
    table = pd.DataFrame({"value": numbers, "share_of_customers": share_of_customers,
                          "share_of_value": share_of_value}, index=pd.RangeIndex(1, n + 1, name="rank"))
    table.attrs.update({"n_customers": n, "total_value": total,
                        "top_10_share": float(np.interp(0.1, curve_x, curve_y)),
                        "top_20_share": float(np.interp(0.2, curve_x, curve_y)),
                        "gini": max(2 * area - 1, 0.0)})
    return table
