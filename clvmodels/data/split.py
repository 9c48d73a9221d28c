"""Calibration/holdout split: summary of the calibration period plus holdout outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import InvalidValueError
from . import periods
from .summary import _attach, _summarise, occasions, per_customer, period_of
from .transactions import OnInvalid, Transactions, end_point, prepare_transactions


def calibration_holdout_split(transactions: pd.DataFrame, *, customer_id_col: str, datetime_col: str,
                              calibration_period_end, observation_period_end=None,
                              monetary_value_col: str | None = None, freq: str = "D", time_unit: str = "W",
                              datetime_format: str | None = None, on_invalid: OnInvalid = "raise") -> pd.DataFrame:
    """Split a transaction log at ``calibration_period_end``.

    Returns the calibration RFM summary (``frequency``, ``recency``, ``T``, ``monetary_value``, as
    :func:`rfm_summary`) for customers first seen by the calibration end, plus what they did in
    the holdout period up to ``observation_period_end``:

    - ``frequency_holdout``: number of purchase occasions in the holdout;
    - ``monetary_value_holdout``: mean value of those occasions (0 if none); transactions in one
      ``freq`` period add up to one occasion, as in the calibration (lifetimes instead averages
      the individual transactions);
    - ``duration_holdout``: length of the holdout period in ``time_unit`` (``freq`` periods from
      the calibration end to the observation end).

    The split is by time: transactions up to ``calibration_period_end`` (a date or a
    :class:`pandas.Period` includes its whole day; a timestamp is the exact end, even at midnight:
    the rule of :func:`~clvmodels.data.transactions.end_point`) are calibration, later ones up to ``observation_period_end`` are holdout, so the
    calibration columns equal ``rfm_summary(..., observation_period_end=calibration_period_end)``.

    Customers whose first purchase falls in the holdout are excluded and counted in
    ``attrs["exclusions"]["customers"]["first_purchase_in_holdout"]`` (their rows under ``rows``).
    Parameters are those of :func:`rfm_summary`; ``attrs`` also holds ``calibration_period_end``,
    and ``n_rows_used`` counts calibration plus holdout rows of the customers kept.
    """
    freq = periods.normalise(freq, what="freq")
    time_unit = periods.normalise(time_unit, what="time_unit")
    factor = periods.unit_factor(freq, time_unit)
    tx = prepare_transactions(transactions, customer_id_col=customer_id_col, datetime_col=datetime_col,
                              monetary_value_col=monetary_value_col, datetime_format=datetime_format,
                              observation_period_end=observation_period_end, on_invalid=on_invalid)
    cal_end, cal_cut = end_point(calibration_period_end, tx.tz, name="calibration_period_end")
    cal_period, end_period = period_of(cal_cut, freq), period_of(tx.end_cutoff, freq)
    if cal_cut >= tx.end_cutoff or cal_period >= end_period:
        raise InvalidValueError(
            f"calibration_period_end {cal_end} must be before observation_period_end "
            f"{tx.observation_period_end}, in an earlier {freq!r} period; otherwise there is no holdout "
            "period. Pass an earlier calibration_period_end or a later observation_period_end.")
    period = periods.period_index(tx.timestamps, freq)
    # Split by time, as rfm_summary cuts at its end: a transaction after calibration_period_end is
    # holdout even when it falls in the same week or month as the calibration end.
    in_cal = tx.timestamps <= np.datetime64(cal_cut.as_unit("ns"))
    if not in_cal.any():
        raise InvalidValueError(
            f"calibration_period_end {cal_end} is before the first transaction "
            f"({pd.Timestamp(tx.timestamps.min())}); the calibration period would be empty. Pass a later date.")

    seen = np.zeros(len(tx.customer_ids), dtype=bool)
    seen[tx.codes[in_cal]] = True
    late_customer = ~seen[tx.codes]
    tx.exclusions.add_customers("first_purchase_in_holdout", int((~seen).sum()))
    tx.exclusions.add_rows("customer_first_seen_in_holdout", int(late_customer.sum()))

    cal = Transactions(codes=tx.codes[in_cal], customer_ids=tx.customer_ids, timestamps=tx.timestamps[in_cal],
                       amounts=None if tx.amounts is None else tx.amounts[in_cal],
                       observation_period_end=cal_end, n_rows_read=tx.n_rows_read, exclusions=tx.exclusions,
                       observation_cutoff=cal_cut, amount_column=tx.amount_column)
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
    return _attach(frame, tx, freq=freq, time_unit=time_unit, calibration_period_end=cal_end.isoformat(),
                   n_rows_used=int(in_cal.sum() + hold.sum()))
