"""Transactions -> discrete-opportunity summary (frequency, recency, n_periods) per customer.

For models of discrete purchase opportunities (BG/BB): time is cut into periods (years for a
yearly fund drive), a customer either transacts in a period or not, and the first period with a
transaction is the trial (acquisition) period. Following Fader, Hardie & Shang (2010):

- ``frequency`` (x): periods with a transaction after the trial period;
- ``recency`` (t_x): the last of them, counted from the trial period (0 without any);
- ``n_periods`` (n): repeat opportunities observed, the periods after the trial period up to the
  period holding the observation end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import EmptyDataError, InvalidValueError
from .summary import occasions, per_customer
from .transactions import OnInvalid, _as_naive, prepare_transactions
from .validation import require_columns, require_rows

PERIODS = ("Y", "Q", "M", "W", "D")
_PERIOD_NAMES = {"Y": "year", "Q": "quarter", "M": "calendar month", "W": "week (Monday to Sunday)", "D": "day"}
COLUMNS = ("frequency", "recency", "n_periods")


def _normalise_period(period) -> str:
    code = period.upper() if isinstance(period, str) else period
    if code not in PERIODS:
        names = ", ".join(f"{p!r} ({_PERIOD_NAMES[p]})" for p in PERIODS)
        raise ValueError(f"period must be one of {names}; got {period!r}.")
    return code


def _period_index(stamps: np.ndarray, period: str) -> np.ndarray:
    """Ordinal of the calendar period holding each timestamp (pandas period ordinals)."""
    return pd.DatetimeIndex(stamps).to_period(period).asi8


def _label(ordinal: int, period: str) -> str:
    return str(pd.Period(ordinal=int(ordinal), freq=period))


def discrete_summary(transactions: pd.DataFrame, *, customer_id_col: str, datetime_col: str,
                     period: str = "Y", first_period=None, n_periods: int | None = None,
                     observation_period_end=None, datetime_format: str | None = None,
                     on_invalid: OnInvalid = "raise") -> pd.DataFrame:
    """Summarise a transaction log into transactions at discrete opportunities, one row per customer.

    Every calendar ``period`` is one transaction opportunity: any number of transactions by a
    customer within one period counts once. A customer's first period with a transaction is the
    trial (acquisition) period; the following periods are the repeat opportunities. For each
    customer (Fader, Hardie & Shang 2010, section 2):

    - ``frequency``: repeat periods with a transaction;
    - ``recency``: the last of them, numbered from the trial period (1 = the period after it),
      0 without any;
    - ``n_periods``: repeat opportunities observed, up to and including the period that holds
      ``observation_period_end`` (capped at ``n_periods=``).

    The period holding the observation end counts as a whole opportunity: end observation on the
    last day of a period (e.g. ``"2001-12-31"`` for years) unless a partial period is intended.
    Customers whose trial falls in the last period have ``n_periods = 0``: they are kept, and
    carry no information about repeat behaviour.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction.
    customer_id_col, datetime_col : str
        Names of the customer id and transaction time columns.
    period : {"Y", "Q", "M", "W", "D"}
        Length of a transaction opportunity: calendar year, quarter, month, week (Monday to
        Sunday) or day.
    first_period : date-like or pandas.Period, optional
        The cohort's acquisition period (the period holding this date, e.g. ``"1995"``): only
        customers whose first transaction falls in it are kept; the others are left out and
        counted in ``attrs["exclusions"]``. Default: every customer, each with their own trial
        period.
    n_periods : int, optional
        Observe at most this many repeat opportunities after each customer's trial (a
        calibration window); later transactions are left out and counted.
    observation_period_end : date-like, optional
        End of observation (a bare date includes its whole day); later transactions are left out
        and counted. Default: the last transaction.
    datetime_format : str, optional
        ``strftime`` format of the date column when it is text or an integer like ``19950101``.
    on_invalid : {"raise", "exclude"}
        Raise on invalid rows (default) or exclude them and count them.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``n_periods`` (integers) indexed by customer id. ``attrs``
        holds ``time_unit`` and ``freq`` (the period), ``first_period`` and ``last_period``
        (labels), ``observation_period_end``, ``n_rows_read``, ``n_rows_used`` and
        ``exclusions``; ``n_rows_read == n_rows_used + sum(exclusions["rows"].values())``.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels.data import discrete_summary
    >>> tx = pd.DataFrame({"donor": [1, 1, 1, 2, 3],
    ...                    "date": pd.to_datetime(["1995-05-01", "1995-11-01", "1997-03-01",
    ...                                            "1995-02-01", "1996-07-01"])})
    >>> discrete_summary(tx, customer_id_col="donor", datetime_col="date", first_period="1995",
    ...                  observation_period_end="2001-12-31")  # doctest: +NORMALIZE_WHITESPACE
           frequency  recency  n_periods
    donor
    1              1        2          6
    2              0        0          6
    """
    period = _normalise_period(period)
    if n_periods is not None and (isinstance(n_periods, bool) or not isinstance(n_periods, (int, np.integer))
                                  or n_periods < 0):
        raise ValueError(f"n_periods must be a whole number of repeat opportunities >= 0, got {n_periods!r}.")
    tx = prepare_transactions(transactions, customer_id_col=customer_id_col, datetime_col=datetime_col,
                              datetime_format=datetime_format, observation_period_end=observation_period_end,
                              on_invalid=on_invalid)
    exclusions = tx.exclusions
    tx_period = _period_index(tx.timestamps, period)
    end_period = int(_period_index(np.array([tx.end_cutoff.as_unit("ns").to_datetime64()]), period)[0])
    first = per_customer(*occasions(tx.codes, tx_period, None))["first"]  # codes are 0..k-1, all present

    keep_customer = np.ones(len(first), dtype=bool)
    cohort = None
    if first_period is not None:
        if isinstance(first_period, pd.Period):
            first_period = first_period.start_time
        stamp = _as_naive(first_period, tx.tz, name="first_period")
        cohort = int(_period_index(np.array([stamp.as_unit("ns").to_datetime64()]), period)[0])
        if cohort > end_period:
            raise InvalidValueError(
                f"first_period {_label(cohort, period)} comes after the observation end "
                f"({_label(end_period, period)}): no repeat opportunity would be observed. Pass an "
                "earlier first_period or a later observation_period_end.")
        before, after = first < cohort, first > cohort
        for mask, reason in ((before, "first_purchase_before_first_period"),
                             (after, "first_purchase_after_first_period")):
            exclusions.add_customers(reason, mask.sum())
        keep_customer = ~(before | after)
        if not keep_customer.any():
            raise EmptyDataError(
                f"No customer made their first transaction in period {_label(cohort, period)} "
                f"(first_period={first_period!r}); first transactions fall between "
                f"{_label(first.min(), period)} and {_label(first.max(), period)}. "
                "Check first_period= and period=.")

    window_end = np.full(len(first), end_period, dtype=np.int64)
    if n_periods is not None:
        window_end = np.minimum(window_end, first + n_periods)
    rows = keep_customer[tx.codes]
    exclusions.add_rows("outside_cohort", (~rows).sum())
    late = rows & (tx_period > window_end[tx.codes])
    exclusions.add_rows("after_n_periods", late.sum())
    rows &= ~late

    c = per_customer(*occasions(tx.codes[rows], tx_period[rows], None))
    codes = c["customer"]
    frame = pd.DataFrame(
        {"frequency": (c["count"] - 1).astype(np.int64),
         "recency": (c["last"] - c["first"]).astype(np.int64),
         "n_periods": (window_end[codes] - c["first"]).astype(np.int64)},
        index=tx.customer_ids[codes],
    )
    frame.attrs.update({
        "time_unit": period,
        "freq": period,
        "first_period": None if cohort is None else _label(cohort, period),
        "last_period": _label(end_period, period),
        "observation_period_end": tx.observation_period_end.isoformat(),
        "n_rows_read": tx.n_rows_read,
        "n_rows_used": int(rows.sum()),
        "exclusions": exclusions.to_dict(),
    })
    return frame


def pattern_counts(summary: pd.DataFrame) -> pd.DataFrame:
    """Collapse a discrete summary to its distinct ``(frequency, recency, n_periods)`` patterns.

    Customers with the same pattern have the same likelihood, so a model fitted on the patterns
    with ``weights="count"`` is the model fitted on the customers (FHS 2010 publish their data
    this way).

    Returns
    -------
    pandas.DataFrame
        ``frequency, recency, n_periods, count``, one row per pattern, sorted; ``attrs`` are kept.
    """
    require_columns(summary, COLUMNS, what="The summary", hint="Build it with clvmodels.data.discrete_summary().")
    require_rows(summary, what="The summary")
    counts = summary.groupby(list(COLUMNS), sort=True).size().rename("count").reset_index()
    counts.attrs.update(summary.attrs)
    return counts
