"""Discounted customer lifetime value from a purchase model and a spend model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _checks

#: Length of a month in each time unit. Thirty days and 4.345 weeks follow lifetimes, so results
#: agree with ``GammaGammaFitter.customer_lifetime_value`` exactly.
MONTH_LENGTH = {"h": 30 * 24.0, "D": 30.0, "W": 4.345, "M": 1.0}
_CHUNK = 250_000


def customer_lifetime_value(purchase_model, spend_model, data: pd.DataFrame, *, horizon_months: int = 12,
                            discount_rate: float = 0.01, margin: float = 1.0,
                            month_length: float | None = None) -> pd.Series:
    """Discounted expected value of each customer's purchases over the next months.

    ``CLV_i = margin * E[spend_i] * sum_{k=1..H} (E[X_i(k m)] - E[X_i((k-1) m)]) / (1 + d)^k``, where
    ``X_i(t)`` is the number of purchases in the next ``t`` time units, ``m`` the month length in the
    model's time unit, ``H = horizon_months`` and ``d = discount_rate`` per month (discounting at the
    end of each month). Expected spend comes from the Gamma-Gamma model.

    Parameters
    ----------
    purchase_model : fitted purchase model (e.g. :class:`~clvmodels.BetaGeoModel`)
    spend_model : fitted spend model (e.g. :class:`~clvmodels.GammaGammaModel`)
    data : pandas.DataFrame
        Summary with ``frequency``, ``recency``, ``T`` and ``monetary_value``.
    horizon_months : int, default 12
        Number of months to sum over: a whole number from 1 to 1200 (100 years).
    discount_rate : float, default 0.01
        Monthly discount rate, finite and 0 or more (0.01 is about 12.7 % a year).
    margin : float, default 1.0
        Share of revenue that is profit: any finite number (a negative margin values customers
        who cost more than they bring, so their CLV is negative).
    month_length : float, optional
        Month length in the model's time unit (positive); default from :data:`MONTH_LENGTH`.

    Returns
    -------
    pandas.Series
        ``clv`` per customer, indexed like ``data``.

    Raises
    ------
    clvmodels.exceptions.InvalidArgumentError
        For an argument outside its range, named in the message with the rule and the value.
    """
    horizon_months, discount_rate, margin, month_length = _checks.clv_arguments(
        horizon_months, discount_rate, margin, month_length)
    if month_length is None:
        unit = getattr(purchase_model, "time_unit_", None) or data.attrs.get("time_unit")
        if unit not in MONTH_LENGTH:
            raise ValueError("The time unit of the purchase model is unknown, so months cannot be converted: "
                             "fit it on a summary from clvmodels.rfm_summary, pass time_unit= to from_params, "
                             f"or give month_length= explicitly (got unit {unit!r}).")
        month_length = MONTH_LENGTH[unit]
    spend = spend_model.expected_spend(data).to_numpy()
    months = np.arange(horizon_months + 1, dtype=float)
    discount = (1 + discount_rate) ** -months[1:]
    clv = np.empty(len(data))
    for start in range(0, len(data), _CHUNK):  # chunks bound memory to (horizon x chunk)
        part = data.iloc[start:start + _CHUNK]
        cumulative = purchase_model.expected_purchases_grid(part, months * month_length)
        clv[start:start + _CHUNK] = discount @ np.diff(cumulative, axis=0)
    return pd.Series(margin * spend * clv, index=data.index, name="clv")
