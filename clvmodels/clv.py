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
        Share of revenue that is profit: a finite number above 0 (as the batch config's
        ``predictions.clv.margin``; customers who cost more than they bring are a question of
        costs, which :mod:`clvmodels.kpis` profiles take).
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
        month_length = _month_length(purchase_model, data)
    spend = spend_model.expected_spend(data).to_numpy()
    months = np.arange(horizon_months + 1, dtype=float)
    discount = (1 + discount_rate) ** -months[1:]
    clv = np.empty(len(data))
    for start in range(0, len(data), _CHUNK):  # chunks bound memory to (horizon x chunk)
        part = data.iloc[start:start + _CHUNK]
        cumulative = purchase_model.expected_purchases_grid(part, months * month_length)
        clv[start:start + _CHUNK] = discount @ np.diff(cumulative, axis=0)
    return pd.Series(margin * spend * clv, index=data.index, name="clv")


def new_customer_lifetime_value(purchase_model, spend_model, profiles: pd.DataFrame, *, horizon_months: int = 12,
                                discount_rate: float = 0.01, margin: float = 1.0,
                                month_length: float | None = None) -> pd.DataFrame:
    """Discounted expected value of a customer of each profile, from the day they are acquired.

    The value of a prospect or of a just-acquired customer (no history yet) as
    :func:`customer_lifetime_value` computes it for a customer with history:
    ``CLV(x) = margin * S(x) * sum_{k=1..H} (E[X(k m | x)] - E[X((k-1) m | x)]) / (1 + d)^k``, where
    ``E[X(t | x)]`` is the purchase model's ``expected_purchases_new_customer(t, covariates=...)``
    (repeat purchases in ``(0, t]`` after the acquisition; for BG/NBD eq. 9 of Fader, Hardie & Lee
    2005 with the profile's parameters) and ``S(x)`` the spend model's expected spend per purchase of
    a customer with no repeat purchase yet, i.e. the mean of the profile's spend distribution (for
    Gamma-Gamma ``p gamma_x / (q - 1)``, Fader & Hardie 2013 eq. 5 at ``x = 0``, with
    ``gamma_x = gamma e^{g_s . x}``). The acquisition purchase itself is not counted: add
    ``expected_spend`` to compare with an acquisition cost that it pays back.

    Either model may be fitted with or without covariates; one without them gives the same value
    for every profile.

    Parameters
    ----------
    purchase_model : fitted purchase model with ``expected_purchases_new_customer`` (BG/NBD, MBG/NBD,
        Pareto/NBD)
    spend_model : fitted spend model (:class:`~clvmodels.GammaGammaModel`)
    profiles : pandas.DataFrame
        One row per profile, with the covariate columns of both models (levels seen at fit time);
        other columns are ignored. History columns (``frequency``, ``monetary_value``) are ignored too:
        a new customer has none.
    horizon_months, discount_rate, margin, month_length
        As in :func:`customer_lifetime_value`, checked the same way.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``profiles``: ``expected_purchases`` (undiscounted, over the horizon),
        ``expected_spend`` (per purchase) and ``clv``.

    Raises
    ------
    clvmodels.exceptions.InvalidArgumentError
        For an argument outside its range, or ``profiles`` missing for a model with covariates.
    ValueError
        If the models' time unit is unknown (give ``month_length``), or a profile's mean spend is
        not finite and positive (Gamma-Gamma with ``q <= 1`` has no finite mean).

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels import BetaGeoModel, GammaGammaModel, datasets
    >>> from clvmodels.clv import new_customer_lifetime_value
    >>> summary = datasets.load_cdnow_summary()
    >>> bgnbd, spend = BetaGeoModel().fit(summary), GammaGammaModel().fit(summary)
    >>> value = new_customer_lifetime_value(bgnbd, spend, pd.DataFrame(index=["anyone"]))
    >>> list(value.columns), bool(value.loc["anyone", "clv"] > 0)
    (['expected_purchases', 'expected_spend', 'clv'], True)
    """
    horizon_months, discount_rate, margin, month_length = _checks.clv_arguments(
        horizon_months, discount_rate, margin, month_length)
    from .exceptions import InvalidArgumentError

    if not isinstance(profiles, pd.DataFrame) or len(profiles) == 0:
        got = "an empty DataFrame" if isinstance(profiles, pd.DataFrame) else type(profiles).__name__
        raise InvalidArgumentError("profiles must be a pandas DataFrame with one row per profile (at least one) "
                                   f"and the models' covariate columns; got {got}.")
    if not callable(getattr(purchase_model, "expected_purchases_new_customer", None)):
        raise InvalidArgumentError(
            f"purchase_model must predict a new customer's purchases (expected_purchases_new_customer); got "
            f"{type(purchase_model).__name__}. Use a BetaGeoModel, ModifiedBetaGeoModel or ParetoNBDModel.")
    if month_length is None:
        month_length = _month_length(purchase_model, profiles)
    months = np.arange(horizon_months + 1, dtype=float)
    horizons = months * month_length
    if getattr(purchase_model, "has_covariates", False):
        cumulative = purchase_model.expected_purchases_new_customer(horizons, covariates=profiles).to_numpy()
    else:
        cumulative = np.broadcast_to(purchase_model.expected_purchases_new_customer(horizons),
                                     (len(profiles), len(horizons)))
    new_customers = profiles.drop(columns=["frequency", "monetary_value"], errors="ignore").assign(
        frequency=0.0, monetary_value=0.0)
    spend = spend_model.expected_spend(new_customers).to_numpy(dtype=float)
    bad = ~(np.isfinite(spend) & (spend > 0))
    if bad.any():
        raise ValueError(f"The spend model gives {int(bad.sum())} of {len(spend)} profiles no finite positive mean "
                         f"spend (first: row {profiles.index[np.flatnonzero(bad)[0]]!r}); a Gamma-Gamma model "
                         "with q <= 1 has no finite mean. Refit it (more customers with repeat purchases) or "
                         "use the spend of customers with history (customer_lifetime_value).")
    discount = (1 + discount_rate) ** -months[1:]
    value = np.diff(cumulative, axis=1) @ discount
    return pd.DataFrame({"expected_purchases": cumulative[:, -1] - cumulative[:, 0], "expected_spend": spend,
                         "clv": margin * spend * value}, index=profiles.index)


def _month_length(purchase_model, frame: pd.DataFrame) -> float:
    """Time units per month, from the purchase model's time unit (or the summary's ``attrs``)."""
    unit = getattr(purchase_model, "time_unit_", None) or frame.attrs.get("time_unit")
    if unit not in MONTH_LENGTH:
        raise ValueError("The time unit of the purchase model is unknown, so months cannot be converted: "
                         "fit it on a summary from clvmodels.rfm_summary, pass time_unit= to from_params, "
                         f"or give month_length= explicitly (got unit {unit!r}).")
    return MONTH_LENGTH[unit]
