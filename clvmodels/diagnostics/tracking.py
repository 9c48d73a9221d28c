"""Tracking: repeat transactions of the cohort per week, actual against the model, across the
calibration and the holdout periods (Fader, Hardie & Lee 2005, Figure 3 and its weekly version).

Each customer of the cohort (first purchase by the calibration end) is followed from the first
purchase; the model expects ``E[X(t)]`` repeat purchases in the first ``t`` time units of a
customer's life, so the cohort is expected to have made ``sum_i E[X(tau - t_first_i)]`` repeat
purchases by calendar time ``tau`` (Fader, Hardie & Lee 2005, eq. 9 for BG/NBD). Customers are
grouped by first-purchase period, so the model is evaluated once per (week, acquisition day).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import periods
from ..data.summary import occasions, period_of
from ..data.transactions import _as_naive, cutoff, prepare_transactions
from ..exceptions import InvalidArgumentError, InvalidValueError
from ._common import check_model


def _step(freq: str, time_unit: str, period_length: float) -> int:
    """Length of one tracking period in ``freq`` periods (a whole number)."""
    steps = period_length / periods.unit_factor(freq, time_unit)
    if not period_length > 0 or abs(steps - round(steps)) > 1e-9 or round(steps) < 1:
        raise ValueError(f"period_length={period_length!r} {time_unit} is not a whole number of {freq!r} "
                         f"periods ({steps:g}); pass e.g. period_length=1 with time_unit='W' and freq='D'.")
    return int(round(steps))


def tracking(purchase_model, transactions: pd.DataFrame, *, customer_id_col: str, datetime_col: str,
             calibration_period_end, observation_period_end=None, freq: str = "D", time_unit: str = "W",
             period_length: float = 1, datetime_format: str | None = None, on_invalid: str = "raise",
             period_end: str = "inclusive") -> pd.DataFrame:
    """Incremental and cumulative repeat transactions per period, actual and expected.

    Parameters
    ----------
    purchase_model : fitted purchase model
        Any model with ``kind == "purchase"``, fitted in ``time_unit`` on the calibration period
        (e.g. on ``calibration_holdout_split(...)`` of the same log and arguments).
    transactions : pandas.DataFrame
        The transaction log, as for :func:`clvmodels.calibration_holdout_split`.
    customer_id_col, datetime_col, calibration_period_end, observation_period_end, freq, time_unit, datetime_format, on_invalid
        As for :func:`clvmodels.calibration_holdout_split`; the same values give the same cohort
        and the same purchase occasions (transactions of a customer in one ``freq`` period count
        once).
    period_length : float, default 1
        Length of a tracking period in ``time_unit`` (one week by default); a whole number of
        ``freq`` periods.
    period_end : {"inclusive", "exclusive"}, default "inclusive"
        Where a tracking period ends when customers' ages are counted for the expected curve:

        - ``"inclusive"``: on its last ``freq`` period (the last day of the week), as the
          summaries count ``T`` (whole ``freq`` periods from the first purchase to the end of
          observation). The expected total at the calibration end is then ``sum_i E[X(T_i)]`` with
          the ``T`` of :func:`clvmodels.calibration_holdout_split`.
        - ``"exclusive"``: at the start of the next ``freq`` period (the week's end is the
          midnight after its last day), so every customer is one ``freq`` period older at each
          period end. This is the convention of BTYD's tracking plots, lifetimes'
          ``expected_cumulative_transactions`` and PyMC-Marketing; use it to compare with them.

        The actual counts do not depend on it (purchases on a period's last day belong to it).

    Returns
    -------
    pandas.DataFrame
        Index ``week``, the number of the tracking period (1, 2, ...). Periods are laid out
        backwards and forwards from the calibration end, so that one ends exactly there; the first
        holds the cohort's first purchase and the last ends at the observation end (it is shorter
        when the holdout is not a whole number of periods). Columns:

        - ``actual_incremental``: repeat purchase occasions of the cohort in the period (first
          purchases excluded);
        - ``expected_incremental``: the model's expectation of the same;
        - ``actual_cumulative``, ``expected_cumulative``: running totals;
        - ``period``: ``"calibration"`` or ``"holdout"``.

        ``attrs`` holds ``time_unit``, ``period_length``, ``n_customers`` and
        ``calibration_periods`` (the number of calibration rows).

    Notes
    -----
    By default (``period_end="inclusive"``) a customer's age at the end of a period is counted as
    in the summaries: the number of ``freq`` periods since the first purchase, in ``time_unit``. The expected cumulative total at the
    calibration end is therefore ``sum_i E[X(T_i)]``, with ``T_i`` of the split, and the actual
    totals there and at the end equal the sums of ``frequency`` and ``frequency_holdout``.

    Examples
    --------
    >>> from clvmodels import BetaGeoModel, calibration_holdout_split, datasets
    >>> from clvmodels.diagnostics import tracking
    >>> tx = datasets.load_cdnow_transactions()
    >>> args = dict(customer_id_col="customer_id", datetime_col="date",
    ...             calibration_period_end=datasets.CDNOW_CALIBRATION_END,
    ...             observation_period_end=datasets.CDNOW_OBSERVATION_END)
    >>> model = BetaGeoModel().fit(calibration_holdout_split(tx, **args))
    >>> table = tracking(model, tx, **args)
    >>> len(table), int(table["actual_cumulative"].iloc[-1])
    (78, 4339)
    """
    check_model(purchase_model, "purchase", argument="purchase_model")
    shift = {"inclusive": 0, "exclusive": 1}.get(period_end) if isinstance(period_end, str) else None
    if shift is None:
        raise InvalidArgumentError(f"period_end must be 'inclusive' (ages counted to a period's last day, as "
                                   f"T in the summaries) or 'exclusive' (to the start of the next day, as "
                                   f"BTYD and lifetimes count); got {period_end!r}.")
    freq = periods.normalise(freq, what="freq")
    time_unit = periods.normalise(time_unit, what="time_unit")
    model_unit = getattr(purchase_model, "time_unit_", None)
    if model_unit and model_unit != time_unit:
        raise ValueError(f"{type(purchase_model).__name__} was fitted in time unit {model_unit!r}, not "
                         f"time_unit={time_unit!r}; pass time_unit={model_unit!r}.")
    factor = periods.unit_factor(freq, time_unit)
    step = _step(freq, time_unit, period_length)

    tx = prepare_transactions(transactions, customer_id_col=customer_id_col, datetime_col=datetime_col,
                              datetime_format=datetime_format, observation_period_end=observation_period_end,
                              on_invalid=on_invalid)
    cal_cut = cutoff(_as_naive(calibration_period_end, tx.tz, name="calibration_period_end"))
    cal_period, end_period = period_of(cal_cut, freq), period_of(tx.end_cutoff, freq)
    if cal_cut >= tx.end_cutoff or cal_period >= end_period:
        raise InvalidValueError(
            f"calibration_period_end {calibration_period_end} must be before observation_period_end "
            f"{tx.observation_period_end}, in an earlier {freq!r} period; otherwise there is no holdout to track.")
    in_cal = tx.timestamps <= np.datetime64(cal_cut.as_unit("ns"))
    if not in_cal.any():
        raise InvalidValueError(f"calibration_period_end {calibration_period_end} is before the first "
                                "transaction; the calibration period would be empty. Pass a later date.")

    # The cohort: customers seen by the calibration end (as in calibration_holdout_split).
    seen = np.zeros(len(tx.customer_ids), dtype=bool)
    seen[tx.codes[in_cal]] = True
    keep = seen[tx.codes]
    occ_customer, occ_period, _ = occasions(tx.codes[keep], periods.period_index(tx.timestamps[keep], freq), None)
    first = np.r_[True, occ_customer[1:] != occ_customer[:-1]]
    first_period, repeat_period = occ_period[first], occ_period[~first]

    # Period ends e_k = cal_period + j * step, from the one holding the first purchase to the end.
    j_lo = -((cal_period - int(first_period.min())) // step)
    j_hi = -((cal_period - end_period) // step)
    ends = cal_period + np.arange(j_lo, j_hi + 1, dtype=np.int64) * step
    ends[-1] = min(ends[-1], end_period)

    actual = np.bincount(np.searchsorted(ends, repeat_period, side="left"), minlength=len(ends))
    days, cohort_sizes = np.unique(first_period, return_counts=True)
    age = np.maximum(ends[:, None] + shift - days[None, :], 0) * factor
    expected_cumulative = purchase_model.expected_purchases_new_customer(age) @ cohort_sizes

    calibration = ends <= cal_period
    table = pd.DataFrame({
        "actual_incremental": actual.astype(np.int64),
        "expected_incremental": np.diff(expected_cumulative, prepend=0.0),
        "actual_cumulative": np.cumsum(actual).astype(np.int64),
        "expected_cumulative": expected_cumulative,
        "period": np.where(calibration, "calibration", "holdout"),
    }, index=pd.RangeIndex(1, len(ends) + 1, name="week"))
    table.attrs.update({"time_unit": time_unit, "period_length": period_length,
                        "n_customers": int(cohort_sizes.sum()),
                        "calibration_periods": int(calibration.sum())})
    return table
