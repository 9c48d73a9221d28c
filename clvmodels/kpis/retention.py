"""Retention and churn rates per calendar period, with an explicit definition of "active".

A customer is *active* in a period if they bought in it, or bought in one of the
``inactivity_window`` periods before it. For each period ``r`` of the table:

- ``customers_start`` ``S``: customers active in the previous period (0 in the first period);
- ``new_customers`` ``N``: customers whose first purchase falls in ``r`` (acquisitions);
- ``reactivated`` ``R``: earlier customers who had lapsed and buy again in ``r``;
- ``customers_lost`` ``L``: customers active in the previous period but not in ``r``;
- ``customers_end`` ``E``: customers active in ``r``; ``E = S - L + N + R``.

Rates (fractions, not percentages):

- ``retention_rate = (E - N) / S`` (the usual business definition; it counts reactivated
  customers as retained, so it can exceed ``1 - churn_rate``);
- ``churn_rate = L / S``: 1,000 customers at the start of a month and 50 lost is 50 / 1000 = 0.05;
- both NaN when ``S = 0``.

The trended rates pool the last ``trend_window`` periods (``sum L / sum S``), which weighs each
period by its customers rather than averaging noisy small-period rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import Activity, activity, check_count, describe, normalise_period, read_transactions

__all__ = ["retention_table", "pooled_churn_rate"]


def period_counts(act: Activity, mask: np.ndarray | None = None) -> pd.DataFrame:
    """``S, N, R, L, E`` per period from activity spells, optionally of the spells in ``mask`` only."""
    n = act.n_periods
    keep = slice(None) if mask is None else np.asarray(mask, dtype=bool)
    start = act.start[keep] - act.first_period
    stop = act.stop[keep] - act.first_period
    diff = np.bincount(start, minlength=n + 1) - np.bincount(stop, minlength=n + 1)
    active = np.cumsum(diff[:n])
    lost = np.bincount(stop[act.lapse[keep]], minlength=n + 1)[:n]
    new = np.bincount(start[act.first[keep]], minlength=n)
    revived = np.bincount(start[act.revival[keep]], minlength=n)
    begin = np.r_[0, active[:-1]]
    return pd.DataFrame({"customers_start": begin, "new_customers": new, "reactivated": revived,
                         "customers_lost": lost, "customers_end": active}, index=act.labels()).astype(np.int64)


def _pooled(lost: np.ndarray, start: np.ndarray) -> float:
    total = float(np.sum(start))
    return float(np.sum(lost)) / total if total > 0 else float("nan")


def _rates(counts: pd.DataFrame, trend_window: int) -> pd.DataFrame:
    s = counts["customers_start"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        retention = np.where(s > 0, (counts["customers_end"] - counts["new_customers"]).to_numpy() / s, np.nan)
        churn = np.where(s > 0, counts["customers_lost"].to_numpy() / s, np.nan)
        rolled = counts[["customers_start", "customers_lost", "customers_end", "new_customers"]] \
            .rolling(trend_window, min_periods=1).sum()
        s_trend = rolled["customers_start"].to_numpy(dtype=float)
        retention_trend = np.where(s_trend > 0, (rolled["customers_end"] - rolled["new_customers"]).to_numpy()
                                   / s_trend, np.nan)
        churn_trend = np.where(s_trend > 0, rolled["customers_lost"].to_numpy() / s_trend, np.nan)
    out = counts.copy()
    out["retention_rate"], out["churn_rate"] = retention, churn
    out["retention_rate_trend"], out["churn_rate_trend"] = retention_trend, churn_trend
    return out


def retention_table(transactions: pd.DataFrame, *, period: str = "M", inactivity_window: int = 0,
                    trend_window: int = 3, customer_id_col: str = "customer_id", datetime_col: str = "date",
                    observation_period_end=None) -> pd.DataFrame:
    """Retention and churn rate per calendar period (see the module docstring for the definitions).

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction; validated as by :func:`clvmodels.rfm_summary`.
    period : {"M", "Q", "Y"}, default "M"
        Reporting period: calendar month, quarter or year.
    inactivity_window : int, default 0
        Number of periods after a purchase period during which a customer who does not buy still
        counts as active (0: active only in periods with a purchase; 2 with months: a customer is
        lost three months after their last purchase month).
    trend_window : int, default 3
        Number of periods pooled in the trended rates.
    customer_id_col, datetime_col : str
        Names of the customer id and transaction date columns.
    observation_period_end : date-like, optional
        End of observation (later rows are left out); default the last transaction.

    Returns
    -------
    pandas.DataFrame
        One row per period from the first purchase to the observation end (index ``period``, a
        :class:`pandas.PeriodIndex`): ``customers_start``, ``new_customers``, ``reactivated``,
        ``customers_lost``, ``customers_end``, ``retention_rate``, ``churn_rate``,
        ``retention_rate_trend``, ``churn_rate_trend`` and ``complete`` (False for a last period
        cut short by the observation end: its churn is overstated). ``attrs`` holds the settings,
        a ``description`` and ``pooled_churn_rate`` (over complete periods).

    Notes
    -----
    The first period has no customers at its start; customers bought before the data begin are
    counted as new when they first appear, so start the log well before the periods you report.

    Examples
    --------
    Customer a buys in January and March, b in January and February, c in February:

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "b", "c"],
    ...                    "date": pd.to_datetime(["2024-01-05", "2024-03-02", "2024-01-20",
    ...                                            "2024-02-11", "2024-02-28"])})
    >>> t = retention_table(tx, period="M")
    >>> t[["customers_start", "new_customers", "customers_lost", "customers_end"]]  # doctest: +NORMALIZE_WHITESPACE
             customers_start  new_customers  customers_lost  customers_end
    period
    2024-01                0              2               0              2
    2024-02                2              1               1              2
    2024-03                2              0               2              1
    >>> t["churn_rate"].tolist()  # February: a lost, 1 / 2; March: b and c lost (a returns), 2 / 2
    [nan, 0.5, 1.0]
    """
    period = normalise_period(period)
    window = check_count(inactivity_window, name="inactivity_window")
    trend_window = check_count(trend_window, name="trend_window", minimum=1)
    tx = read_transactions(transactions, customer_id_col=customer_id_col, datetime_col=datetime_col,
                           observation_period_end=observation_period_end)
    act = activity(tx, period=period, window=window)
    table = _rates(period_counts(act), trend_window)
    complete = np.ones(len(table), dtype=bool)
    complete[-1] = act.last_complete
    table["complete"] = complete
    return describe(
        table,
        f"Customers per {_NAMES[period]}: active at start, new, reactivated, lost, active at end; retention rate "
        "(end - new) / start and churn rate lost / start. A customer is active in a period with a purchase "
        f"or within {window} period(s) after one.",
        period=period, inactivity_window=window, trend_window=trend_window,
        observation_period_end=tx.observation_period_end.isoformat(),
        pooled_churn_rate=pooled_churn_rate(table))


def pooled_churn_rate(table: pd.DataFrame, *, complete_only: bool = True) -> float:
    """All customers lost over all customers at risk: ``sum L / sum S`` over the periods of a
    :func:`retention_table` (complete periods only by default); NaN when no one was at risk.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"customers_start": [0, 1000, 950], "customers_lost": [0, 50, 45],
    ...                   "complete": [True, True, True]})
    >>> pooled_churn_rate(t)  # (50 + 45) / (1000 + 950)
    0.04871794871794872
    """
    rows = table["complete"].to_numpy(dtype=bool) if complete_only and "complete" in table else slice(None)
    return _pooled(table["customers_lost"].to_numpy()[rows], table["customers_start"].to_numpy()[rows])


_NAMES = {"M": "month", "Q": "quarter", "Y": "year"}
