"""Acquisition cohorts: the retention matrix (cohort x periods since acquisition) and the
repeat-purchase rate of each cohort.

A customer's *cohort* is the calendar period of their first purchase. "Active" has the meaning of
:mod:`clvmodels.kpis.retention`: a purchase in the period or within ``inactivity_window`` periods
before it. Periods since acquisition count from 0 (the acquisition period, where every customer of
the cohort is active by definition).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import activity, check_count, describe, last_period, normalise_period, period_labels, \
    period_ordinal, read_transactions

__all__ = ["cohort_retention", "repeat_purchase_rate"]


def cohort_retention(transactions: pd.DataFrame, *, period: str = "M", inactivity_window: int = 0,
                     values: str = "rate", customer_id_col: str = "customer_id", datetime_col: str = "date",
                     observation_period_end=None) -> pd.DataFrame:
    """Share (or number) of each acquisition cohort active ``k`` periods after acquisition.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction; validated as by :func:`clvmodels.rfm_summary`.
    period : {"M", "Q", "Y"}, default "M"
        Length of a cohort and of a step since acquisition.
    inactivity_window : int, default 0
        Periods after a purchase period in which a customer still counts as active.
    values : {"rate", "count"}, default "rate"
        Shares of the cohort (``count / cohort size``) or numbers of active customers.
    customer_id_col, datetime_col : str
        Names of the customer id and transaction date columns.
    observation_period_end : date-like, optional
        End of observation; default the last transaction.

    Returns
    -------
    pandas.DataFrame
        Index ``cohort`` (a :class:`pandas.PeriodIndex`, cohorts with at least one customer),
        columns ``0, 1, ...`` named ``periods_since_acquisition``; NaN where the period lies after
        the observation end. ``attrs["cohort_size"]`` lists the customers per cohort.

    Examples
    --------
    Cohort January: a (buys in January and March) and b (January only); cohort February: c.

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...                    "date": pd.to_datetime(["2024-01-05", "2024-03-02", "2024-01-20", "2024-02-28"])})
    >>> cohort_retention(tx).to_numpy().tolist()  # January: 2/2, 0/2, 1/2; February: 1/1, 0/1
    [[1.0, 0.0, 0.5], [1.0, 0.0, nan]]
    """
    period = normalise_period(period)
    window = check_count(inactivity_window, name="inactivity_window")
    if values not in ("rate", "count"):
        raise ValueError(f"values must be 'rate' or 'count', got {values!r}.")
    tx = read_transactions(transactions, customer_id_col=customer_id_col, datetime_col=datetime_col,
                           observation_period_end=observation_period_end)
    act = activity(tx, period=period, window=window)
    n = act.n_periods
    cohorts, row = np.unique(act.cohort, return_inverse=True)
    diff = np.zeros((len(cohorts), n + 1), dtype=np.int64)
    np.add.at(diff, (row, act.start - act.cohort), 1)
    np.add.at(diff, (row, act.stop - act.cohort), -1)
    counts = np.cumsum(diff[:, :n], axis=1).astype(float)
    size = np.bincount(row[act.first], minlength=len(cohorts))
    observed = np.arange(n)[None, :] <= (act.last_period - cohorts)[:, None]
    matrix = np.where(observed, counts / size[:, None] if values == "rate" else counts, np.nan)
    labels = period_labels(cohorts, period).rename("cohort")
    table = pd.DataFrame(matrix, index=labels, columns=pd.RangeIndex(n, name="periods_since_acquisition"))
    return describe(
        table,
        f"{'Share' if values == 'rate' else 'Number'} of each acquisition cohort active k periods after its "
        f"first purchase (active: a purchase in the period or within {window} period(s) before it).",
        period=period, inactivity_window=window, values=values,
        cohort_size={str(k): int(v) for k, v in zip(labels, size)},
        observation_period_end=tx.observation_period_end.isoformat())


def repeat_purchase_rate(transactions: pd.DataFrame, *, period: str = "M", within: int | None = None,
                         customer_id_col: str = "customer_id", datetime_col: str = "date",
                         observation_period_end=None) -> pd.DataFrame:
    """Share of each acquisition cohort that bought again on a later day.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction.
    period : {"M", "Q", "Y"}, default "M"
        Length of a cohort.
    within : int, optional
        Count only repeat purchases in the acquisition period or the ``within`` periods after it
        (so that older and younger cohorts are compared over the same time); default all.
    customer_id_col, datetime_col : str
        Names of the customer id and transaction date columns.
    observation_period_end : date-like, optional
        End of observation; default the last transaction.

    Returns
    -------
    pandas.DataFrame
        Index ``cohort``: ``cohort_size``, ``repeat_customers``, ``repeat_purchase_rate``
        (``repeat_customers / cohort_size``) and ``complete`` (whether the cohort was observed
        for all of its ``within`` periods; always True without ``within``).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "b", "c"],
    ...                    "date": pd.to_datetime(["2024-01-05", "2024-03-02", "2024-01-20",
    ...                                            "2024-01-20", "2024-02-28"])})
    >>> repeat_purchase_rate(tx)["repeat_purchase_rate"].tolist()  # a again, b same day only: 1/2; c: 0/1
    [0.5, 0.0]
    """
    period = normalise_period(period)
    if within is not None:
        within = check_count(within, name="within")
    tx = read_transactions(transactions, customer_id_col=customer_id_col, datetime_col=datetime_col,
                           observation_period_end=observation_period_end)
    days = tx.timestamps.astype("datetime64[D]").astype(np.int64)
    n_customers = len(tx.customer_ids)
    first_day = np.full(n_customers, np.iinfo(np.int64).max)
    np.minimum.at(first_day, tx.codes, days)
    first_stamp = first_day.astype("datetime64[D]")
    cohort = period_ordinal(first_stamp, period)
    later = days > first_day[tx.codes]
    if within is not None:
        later &= period_ordinal(tx.timestamps, period) <= cohort[tx.codes] + within
    repeat = np.zeros(n_customers, dtype=bool)
    repeat[tx.codes[later]] = True
    cohorts, row = np.unique(cohort, return_inverse=True)
    size = np.bincount(row, minlength=len(cohorts))
    repeaters = np.bincount(row, weights=repeat, minlength=len(cohorts)).astype(np.int64)
    last, closed = last_period(tx, period)
    last_observed = last if closed else last - 1  # the last fully observed period
    complete = np.ones(len(cohorts), dtype=bool) if within is None else cohorts + within <= last_observed
    table = pd.DataFrame({"cohort_size": size, "repeat_customers": repeaters, "repeat_purchase_rate": repeaters / size,
                          "complete": complete}, index=period_labels(cohorts, period).rename("cohort"))
    return describe(
        table, "Share of each acquisition cohort with a purchase on a later day than its first"
        + ("" if within is None else f", within {within} period(s) after the acquisition period") + ".",
        period=period, within=within, observation_period_end=tx.observation_period_end.isoformat())

