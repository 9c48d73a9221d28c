"""Pareto/NBD estimator (Schmittlein, Morrison & Colombo 1987); maths in :mod:`clvmodels.likelihoods.pareto_nbd`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _checks
from ..likelihoods import pareto_nbd
from ._purchase import PurchaseModel
from .base import Boundary


class ParetoNBDModel(PurchaseModel):
    """Pareto/NBD purchase model: Poisson purchasing with gamma rates, exponential lifetimes with
    gamma-distributed dropout rates, so customers may drop out at any moment.

    Parameters are ``r, alpha`` (gamma heterogeneity of purchase rates) and ``s, beta`` (gamma
    heterogeneity of dropout rates); ``alpha`` and ``beta`` are in the data's time unit. Same data
    and settings as :class:`~clvmodels.BetaGeoModel`.

    Examples
    --------
    >>> from clvmodels import ParetoNBDModel, datasets
    >>> model = ParetoNBDModel().fit(datasets.load_cdnow_summary())
    >>> model.params_.round(3).to_dict()
    {'r': 0.553, 'alpha': 10.578, 's': 0.606, 'beta': 11.668}
    """

    name = "pareto_nbd"
    maths = pareto_nbd
    _row_broadcast = False  # its tails assume one (alpha, beta): covariates are fitted per pattern
    boundaries = (
        Boundary("s", below=1e-4, meaning="s -> 0 means almost nobody drops out; the data show no "
                 "sign of churn, and a plain NBD model describes them as well."),
        Boundary("r", above=1e4, meaning="r, alpha -> infinity means purchase rates hardly differ "
                 "between customers (no heterogeneity); the gamma mixing adds nothing."),
    )

    def discounted_expected_residual_transactions(self, data, discount_rate: float) -> pd.Series:
        """DERT: each customer's expected purchases after ``T``, discounted continuously.

        ``DERT = ∫_0^∞ e^(-δ t) dE[X(T, T+t)]`` (Fader, Hardie & Lee 2005, "RFM and CLV: using
        iso-value curves", JMR 42, eq. 2). Times the expected margin per purchase (e.g. from
        :class:`~clvmodels.GammaGammaModel`) it is the customer's discounted expected residual
        lifetime value.

        Parameters
        ----------
        data : pandas.DataFrame
            Summary with ``frequency``, ``recency`` and ``T``.
        discount_rate : float
            Continuously compounded discount rate ``δ > 0`` **per time unit of the data**. From an
            annual rate ``d`` and data in weeks: ``δ = log(1 + d) / 52`` (15 % a year gives
            ``δ = 0.0027`` per week, the value of the paper); in days, ``log(1 + d) / 365``.

        Returns
        -------
        pandas.Series
            ``dert`` per customer, indexed like ``data``.
        """
        rate = _checks.number(discount_rate, name="discount_rate", minimum=0.0, strict=True,
                              rule="a positive, finite continuous rate per time unit (for an annual rate d "
                              "and weekly data, log(1 + d) / 52)")
        frame, history = self._history(data)
        values = self._per_customer(
            frame, lambda p, *h: self.maths.discounted_expected_residual_transactions(p, rate, *h), *history)
        return pd.Series(values, index=frame.index, name="dert")
