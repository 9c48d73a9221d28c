"""Transactions -> RFM summary (frequency, recency, T, monetary value) per customer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import InvalidValueError
from . import periods
from .transactions import OnInvalid, Transactions, prepare_transactions
from .validation import MAX_EXAMPLES


def occasions(codes: np.ndarray, period: np.ndarray, amounts: np.ndarray | None):
    """Merge transactions of one customer in one period into a purchase occasion.

    Returns occasion arrays sorted by customer then period: customer code, period, value.
    """
    lo = period.min() if len(period) else 0
    span = int(period.max() - lo + 1) if len(period) else 1
    key = codes * span + (period - lo)
    unique_key, inverse = np.unique(key, return_inverse=True)
    value = np.bincount(inverse, weights=amounts, minlength=len(unique_key)) if amounts is not None else None
    return unique_key // span, unique_key % span + lo, value


def per_customer(occ_customer: np.ndarray, occ_period: np.ndarray, occ_value: np.ndarray | None):
    """First/last period, occasion count, first value and total value per customer (sorted codes)."""
    starts = np.flatnonzero(np.r_[True, occ_customer[1:] != occ_customer[:-1]])
    ends = np.r_[starts[1:], len(occ_customer)]
    out = {
        "customer": occ_customer[starts],
        "first": occ_period[starts],
        "last": occ_period[ends - 1],
        "count": ends - starts,
    }
    if occ_value is not None:
        out["first_value"] = occ_value[starts]
        out["total_value"] = np.add.reduceat(occ_value, starts)
    return out


def period_of(stamp: pd.Timestamp, freq: str) -> int:
    """Index of the ``freq`` period holding ``stamp`` (as :func:`periods.period_index`)."""
    return int(periods.period_index(np.array([stamp.as_unit("ns").to_datetime64()]), freq)[0])


def _summarise(tx: Transactions, *, end_period: int, freq: str, time_unit: str) -> pd.DataFrame:
    factor = periods.unit_factor(freq, time_unit)
    occ = occasions(tx.codes, periods.period_index(tx.timestamps, freq), tx.amounts)
    c = per_customer(*occ)
    frame = pd.DataFrame(
        {"frequency": (c["count"] - 1).astype(float),
         "recency": (c["last"] - c["first"]) * factor,
         "T": (end_period - c["first"]) * factor},
        index=tx.customer_ids[c["customer"]],
    )
    if "total_value" in c:
        repeats = c["count"] - 1
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            frame["monetary_value"] = np.where(repeats > 0, (c["total_value"] - c["first_value"]) / repeats, 0.0)
        overflow = ~np.isfinite(c["total_value"]) | ~np.isfinite(frame["monetary_value"].to_numpy())
        if overflow.any():
            raise overflow_error(frame.index[overflow], tx.amount_column)
    return frame


def overflow_error(customers: pd.Index, column: str | None) -> InvalidValueError:
    """The message for customers whose amounts add up beyond the largest float (about 1.8e308)."""
    return InvalidValueError(
        f"column {column or 'amount'!r}: the amounts of {len(customers)} customer(s) add up beyond the largest "
        f"representable number (about 1.8e308; e.g. customers {customers[:MAX_EXAMPLES].tolist()}), so their "
        "spend would be infinite. Check the column's values and unit (a misplaced exponent or an id column "
        "read as an amount?) and fix or drop these rows.")


def _attach(frame: pd.DataFrame, tx: Transactions, *, freq: str, time_unit: str, **extra) -> pd.DataFrame:
    frame.attrs.update({
        "time_unit": time_unit,
        "freq": freq,
        "observation_period_end": tx.observation_period_end.isoformat(),
        "observation_cutoff": tx.end_cutoff.isoformat(),
        "n_rows_read": tx.n_rows_read,
        "n_rows_used": len(tx.codes),
        "exclusions": tx.exclusions.to_dict(),
        **extra,
    })
    return frame


def rfm_summary(transactions: pd.DataFrame, *, customer_id_col: str, datetime_col: str,
                monetary_value_col: str | None = None, observation_period_end=None, freq: str = "D",
                time_unit: str = "W", datetime_format: str | None = None,
                on_invalid: OnInvalid = "raise") -> pd.DataFrame:
    """Summarise a transaction log into one row per customer.

    Purchases by the same customer within one ``freq`` period form one purchase occasion (their
    amounts add up). For each customer:

    - ``frequency``: number of repeat occasions (occasions after the first);
    - ``recency``: time from the first to the last occasion;
    - ``T``: time from the first occasion to ``observation_period_end``;
    - ``monetary_value``: mean value of the repeat occasions (first excluded), 0 without repeats.

    Times are differences of ``freq`` periods expressed in ``time_unit`` (days / 7 for weeks, as
    in Fader, Hardie & Lee 2005).

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction.
    customer_id_col, datetime_col : str
        Names of the customer id and transaction time columns.
    monetary_value_col : str, optional
        Name of the amount column; adds ``monetary_value``.
    observation_period_end : date-like, optional
        End of observation. A date (:class:`datetime.date`, text without a time such as
        ``'1997-09-30'``, a :class:`pandas.Period` such as ``Period('1997-09', 'M')``) includes its
        whole day (a period: up to its last instant); a timestamp (:class:`datetime.datetime`,
        :class:`pandas.Timestamp`, text with a time part) is the exact end, even at midnight.
        Later transactions are left out and counted. Default: the last transaction.
    freq : {"D", "W", "M", "h"}
        Granularity of purchase occasions.
    time_unit : {"W", "D", "M", "h"}
        Unit of ``recency`` and ``T``.
    datetime_format : str, optional
        ``strftime`` format of the date column when it is text or an integer like ``19970101``
        (required for integers). Time-zone-aware dates keep their local wall-clock time.
    on_invalid : {"raise", "exclude"}
        Raise on invalid rows (default) or exclude them and count them.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id. ``attrs`` holds ``time_unit``, ``freq``, ``observation_period_end``,
        ``observation_cutoff`` (the last instant observed), ``n_rows_read``, ``n_rows_used`` and
        ``exclusions`` (rows and customers left out, by reason);
        ``n_rows_read == n_rows_used + sum(exclusions["rows"].values())``.

    Examples
    --------
    >>> from clvmodels import rfm_summary, datasets
    >>> tx = datasets.load_cdnow_transactions()
    >>> summary = rfm_summary(tx, customer_id_col="customer_id", datetime_col="date",
    ...                       monetary_value_col="amount", observation_period_end="1997-09-30")
    >>> summary.loc[1].round(3).to_dict()  # published (2 decimals): 2, 30.43, 38.86, 22.35
    {'frequency': 2.0, 'recency': 30.429, 'T': 38.857, 'monetary_value': 22.345}
    """
    freq = periods.normalise(freq, what="freq")
    time_unit = periods.normalise(time_unit, what="time_unit")
    periods.unit_factor(freq, time_unit)
    tx = prepare_transactions(transactions, customer_id_col=customer_id_col, datetime_col=datetime_col,
                              monetary_value_col=monetary_value_col, datetime_format=datetime_format,
                              observation_period_end=observation_period_end, on_invalid=on_invalid)
    end_period = period_of(tx.end_cutoff, freq)
    frame = _summarise(tx, end_period=end_period, freq=freq, time_unit=time_unit)
    return _attach(frame, tx, freq=freq, time_unit=time_unit)
