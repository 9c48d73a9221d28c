"""Payments -> subscription tenures (tenure, churned) per customer, for contractual models (sBG).

A subscription is paid once per contract period (a calendar month, quarter or year). Following
the renewal process of Fader & Hardie (2007), a customer's first paid period is the acquisition;
at the end of every paid period the customer decides whether to renew. From a log of payments:

- the customer's subscription is the run of consecutive paid periods that starts at the first
  payment; the first period without a payment is the cancellation;
- ``churned`` is 1 when that cancellation is observed (a period without payment at or before the
  period that holds the observation end), 0 when the customer is still paying in that period;
- ``tenure`` is the number of renewal decisions observed: the number of paid periods for a
  churned customer (who cancelled at the last decision), one less for an active one (whose next
  decision is still to come). A customer acquired in the last period has ``tenure = 0``.

Payments after a cancellation (a returning customer) are not part of the subscription: they are
left out and counted as ``after_cancellation`` rows, and the customers as
``reactivated_customers`` in ``attrs``, never dropped silently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .discrete import _normalise_period, _period_index
from .summary import occasions
from .transactions import OnInvalid, prepare_transactions

COLUMNS = ("tenure", "churned")


def retention_summary(transactions: pd.DataFrame, *, customer_id_col: str, datetime_col: str,
                      period: str = "M", monetary_value_col: str | None = None,
                      observation_period_end=None, datetime_format: str | None = None,
                      on_invalid: OnInvalid = "raise") -> pd.DataFrame:
    """Summarise a payment log into subscription tenures, one row per customer.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per payment.
    customer_id_col, datetime_col : str
        Columns with the customer id and the payment time.
    period : {"M", "Q", "Y", "W", "D"}, default "M"
        The contract period: one payment per calendar period keeps a subscription alive (several
        payments in one period count once).
    monetary_value_col : str, optional
        Column with the payment amount; adds ``monetary_value``, the mean amount paid per period
        of the subscription (the contract value for
        :meth:`~clvmodels.ShiftedBetaGeoModel.customer_lifetime_value`).
    observation_period_end, datetime_format, on_invalid
        As for :func:`clvmodels.rfm_summary`. The period holding the observation end counts as a
        whole period: end observation on the last day of a period (e.g. a month end) so that a
        payment still to come in that period is not read as a cancellation.

    Returns
    -------
    pandas.DataFrame
        ``tenure`` and ``churned`` (integers; plus ``monetary_value``) indexed by customer id, ready
        for :class:`~clvmodels.ShiftedBetaGeoModel`. ``attrs`` holds ``time_unit`` (the period),
        ``last_period`` (label), ``observation_period_end``, ``n_rows_read``, ``n_rows_used``,
        ``exclusions`` and ``reactivated_customers``; ``n_rows_read == n_rows_used +
        sum(exclusions["rows"].values())``.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels.data import retention_summary
    >>> pay = pd.DataFrame({"id": [1, 1, 1, 2, 2, 3, 3],
    ...                     "date": pd.to_datetime(["2024-01-05", "2024-02-05", "2024-03-05",
    ...                                             "2024-01-20", "2024-03-20",
    ...                                             "2024-02-01", "2024-03-01"])})
    >>> retention_summary(pay, customer_id_col="id", datetime_col="date",
    ...                   observation_period_end="2024-03-31")  # doctest: +NORMALIZE_WHITESPACE
        tenure  churned
    id
    1        2        0
    2        1        1
    3        1        0

    Customer 1 paid every month and has made two renewals; customer 2 did not pay in February
    (cancelled at the first decision; the March payment is a reactivation, counted apart);
    customer 3 joined in February and has renewed once.
    """
    period = _normalise_period(period)
    tx = prepare_transactions(transactions, customer_id_col=customer_id_col, datetime_col=datetime_col,
                              monetary_value_col=monetary_value_col, datetime_format=datetime_format,
                              observation_period_end=observation_period_end, on_invalid=on_invalid)
    tx_period = _period_index(tx.timestamps, period)
    end_period = int(_period_index(np.array([tx.end_cutoff.as_unit("ns").to_datetime64()]), period)[0])

    customer, paid, amount = occasions(tx.codes, tx_period, tx.amounts)  # sorted by customer, period
    starts = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    first = np.repeat(paid[starts], np.diff(np.r_[starts, len(customer)]))
    rank = np.arange(len(customer)) - np.repeat(starts, np.diff(np.r_[starts, len(customer)]))
    in_spell = paid - first == rank  # consecutive from the first payment; false from the first gap on

    spell_periods = np.add.reduceat(in_spell.astype(np.int64), starts)
    last_paid = paid[starts] + spell_periods - 1
    churned = last_paid < end_period
    codes = customer[starts]
    frame = pd.DataFrame({"tenure": np.where(churned, spell_periods, spell_periods - 1).astype(np.int64),
                          "churned": churned.astype(np.int64)},
                         index=tx.customer_ids[codes])
    if amount is not None:
        frame["monetary_value"] = np.add.reduceat(np.where(in_spell, amount, 0.0), starts) / spell_periods

    lo, span = tx_period.min(), int(tx_period.max() - tx_period.min() + 1)
    occasion_of_row = np.searchsorted(customer * span + (paid - lo), tx.codes * span + (tx_period - lo))
    after = ~in_spell[occasion_of_row]
    tx.exclusions.add_rows("after_cancellation", after.sum())
    frame.attrs.update({
        "time_unit": period,
        "freq": period,
        "last_period": str(pd.Period(ordinal=end_period, freq=period)),
        "observation_period_end": tx.observation_period_end.isoformat(),
        "n_rows_read": tx.n_rows_read,
        "n_rows_used": int(len(tx.codes) - after.sum()),
        "exclusions": tx.exclusions.to_dict(),
        "reactivated_customers": int((spell_periods < np.diff(np.r_[starts, len(customer)])).sum()),
    })
    return frame

