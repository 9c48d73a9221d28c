"""Calibration/holdout split: summary of the calibration period plus holdout outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import InvalidValueError
from . import periods
from .summary import _attach, _summarise, occasions, per_customer
from .transactions import OnInvalid, Transactions, prepare_transactions


def calibration_holdout_split(transactions: pd.DataFrame, *, customer_id_col: str, datetime_col: str,
                              calibration_period_end, observation_period_end=None,
                              monetary_value_col: str | None = None, freq: str = "D", time_unit: str = "W",
                              datetime_format: str | None = None, on_invalid: OnInvalid = "raise") -> pd.DataFrame:
    """Split a transaction log at ``calibration_period_end``.

    Returns the calibration RFM summary (``frequency``, ``recency``, ``T``, ``monetary_value``, as
    :func:`rfm_summary`) for customers first seen by the calibration end, plus what they did in
    the holdout period up to ``observation_period_end``:

    - ``frequency_holdout``: number of purchase occasions in the holdout;
    - ``monetary_value_holdout``: mean value of those occasions (0 if none);
    - ``duration_holdout``: length of the holdout period in ``time_unit``.

    Customers whose first purchase falls in the holdout are excluded and counted in
    ``attrs["exclusions"]["customers"]["first_purchase_in_holdout"]`` (their rows under ``rows``).
    Parameters are those of :func:`rfm_summary`.
    """
    freq = periods.normalise(freq, what="freq")
    time_unit = periods.normalise(time_unit, what="time_unit")
    factor = periods.unit_factor(freq, time_unit)
    tx = prepare_transactions(transactions, customer_id_col=customer_id_col, datetime_col=datetime_col,
                              monetary_value_col=monetary_value_col, datetime_format=datetime_format,
                              observation_period_end=observation_period_end, on_invalid=on_invalid)
    cal_end = pd.Timestamp(calibration_period_end)
    if cal_end >= tx.observation_period_end.normalize():
        raise InvalidValueError(
            f"calibration_period_end {cal_end.date()} must be before observation_period_end "
            f"{tx.observation_period_end.date()}; otherwise there is no holdout period.")
    def to_period(ts):
        return int(periods.period_index(np.array([ts.to_datetime64()]), freq)[0])

    cal_period, end_period = to_period(cal_end), to_period(tx.observation_period_end)
    period = periods.period_index(tx.timestamps, freq)
    in_cal = period <= cal_period
    if not in_cal.any():
        raise InvalidValueError(f"calibration_period_end {cal_end.date()} is before the first transaction; "
                                "the calibration period would be empty. Pass a later date.")

    seen = np.zeros(len(tx.customer_ids), dtype=bool)
    seen[tx.codes[in_cal]] = True
    late_customer = ~seen[tx.codes]
    tx.exclusions.add_customers("first_purchase_in_holdout", int((~seen).sum()))
    tx.exclusions.add_rows("customer_first_seen_in_holdout", int(late_customer.sum()))

    cal = Transactions(codes=tx.codes[in_cal], customer_ids=tx.customer_ids, timestamps=tx.timestamps[in_cal],
                       amounts=None if tx.amounts is None else tx.amounts[in_cal],
                       observation_period_end=cal_end, n_rows_read=tx.n_rows_read, exclusions=tx.exclusions)
    frame = _summarise(cal, end_period=cal_period, freq=freq, time_unit=time_unit)

    hold = ~in_cal & ~late_customer
    counts = np.zeros(len(tx.customer_ids))
    values = np.zeros(len(tx.customer_ids))
    if hold.any():
        occ = occasions(tx.codes[hold], period[hold], None if tx.amounts is None else tx.amounts[hold])
        c = per_customer(*occ)
        counts[c["customer"]] = c["count"]
        if "total_value" in c:
            values[c["customer"]] = c["total_value"] / c["count"]
    codes = tx.customer_ids.get_indexer(frame.index)
    frame["frequency_holdout"] = counts[codes]
    if tx.amounts is not None:
        frame["monetary_value_holdout"] = values[codes]
    frame["duration_holdout"] = (end_period - cal_period) * factor
    return _attach(frame, tx, freq=freq, time_unit=time_unit,
                   calibration_period_end=cal_end.isoformat())
