"""Shared body of the continuous-time purchase models (BG/NBD, MBG/NBD, Pareto/NBD).

They read the same summary (``frequency``, ``recency``, ``T``) and answer the same questions;
only the mathematics differ, so a subclass names its likelihood module in ``maths`` and the rest
follows from it.
"""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

import numpy as np
import pandas as pd

from .. import _checks
from . import _covariates
from ..exceptions import InvalidArgumentError
from .base import MLEModel


class PurchaseModel(MLEModel):
    """Base of the purchase models fitted on ``frequency``, ``recency`` and ``T``.

    The ``maths`` module provides ``PARAM_NAMES``, ``RATE_PARAMS``, ``loglik``, ``loglik_grad``,
    ``probability_alive``, ``expected_purchases``, ``expected_purchases_new_customer`` and
    ``simulate``.
    """

    kind = "purchase"
    data_columns = ("frequency", "recency", "T")
    covariate_roles = ("purchase", "dropout")
    maths: ClassVar[ModuleType]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        maths = cls.__dict__.get("maths")
        if maths is not None:
            cls.param_names = maths.PARAM_NAMES
            cls.rate_params = maths.RATE_PARAMS
            cls._loglik = staticmethod(maths.loglik)
            cls._loglik_grad = staticmethod(maths.loglik_grad)
            if hasattr(maths, "make_objective"):
                cls._make_objective = staticmethod(maths.make_objective)
            if hasattr(maths, "make_row_objective"):
                cls._make_row_objective = staticmethod(maths.make_row_objective)

    def _data_problem(self, columns, weights):
        """Some customer repeats, and some customer was observed for a while (``T > 0``). Without repeat purchases nothing tells how often customers buy nor
        whether they drop out; with ``T = 0`` everywhere no customer had any time to buy."""
        n = weights.sum()
        if not np.any(columns["T"] > 0):
            return (f"every customer was observed for no time (T = 0 for all {n:g} customers: their first "
                    "purchase falls on the last day of the observation period), so there is no time in which "
                    "to buy again. Set the observation period end (calibration end) after the first "
                    "purchases, or fix T in the summary (T is the time from a customer's first purchase to "
                    "the end of observation).")
        if not np.any(columns["frequency"] > 0):
            return (f"no customer made a repeat purchase (frequency is 0 for all {n:g} customers), so nothing "
                    "tells how often customers buy or whether they drop out. Use a longer observation "
                    "period, or check the summary: frequency counts the purchases after the first (on "
                    "distinct periods), so it is 0 for one-time buyers only.")
        return None

    _probe_rows = {"frequency": [0.0, 1.0, 5.0, 30.0], "recency": [0.0, 1.0, 20.0, 50.0],
                   "T": [1.0, 2.0, 40.0, 52.0]}

    def _probe_values(self, params):
        """The log-likelihood, P(alive) and expected purchases of the probe customers, and a new
        customer's expected purchases over 1, 10 and 100 time units."""
        x, t_x, T = (np.asarray(self._probe_rows[c]) for c in self.data_columns)
        return np.concatenate([super()._probe_values(params), self.maths.probability_alive(params, x, t_x, T),
                               self.maths.expected_purchases(params, 10.0, x, t_x, T),
                               self.maths.expected_purchases_new_customer(params, np.array([1.0, 10.0, 100.0]))])

    def _default_start(self, columns, weights):
        # r = 1 with alpha matching the mean purchase rate; the other parameters at 1.
        rate = (max(np.average(columns["frequency"], weights=weights), 0.1)
                / max(np.average(columns["T"], weights=weights), 1e-9))
        start = np.ones(len(self.param_names))
        start[self.param_names.index("alpha")] = 1.0 / rate
        return start

    def _history(self, data):
        frame, c = self._prediction_frame(data)
        return frame, (c["frequency"], c["recency"], c["T"])

    def probability_alive(self, data) -> pd.Series:
        """P(alive) at the end of observation for each customer in ``data`` (with covariates, read
        from its covariate columns)."""
        frame, history = self._history(data)
        return pd.Series(self._per_customer(frame, self.maths.probability_alive, *history),
                         index=frame.index, name="p_alive")

    def churn_probability(self, data) -> pd.Series:
        """1 - P(alive): the probability the customer has already dropped out."""
        return (1 - self.probability_alive(data)).rename("churn_probability")

    def expected_purchases(self, data, t) -> pd.Series:
        """Expected purchases in the next ``t`` time units (the data's unit) for each customer.

        ``t`` is finite and 0 or more (one number, or one per customer); otherwise
        :class:`~clvmodels.exceptions.InvalidArgumentError`.
        """
        t = _checks.times(t)
        frame, history = self._history(data)
        if t.ndim and self.has_covariates:  # one horizon per customer: split with the customers
            t = np.broadcast_to(t, (len(frame),))
            values = self._per_customer(frame, lambda p, t_, *h: self.maths.expected_purchases(p, t_, *h),
                                        t, *history)
        else:
            values = self._per_customer(frame, lambda p, *h: self.maths.expected_purchases(p, t, *h), *history)
        return pd.Series(values, index=frame.index, name="expected_purchases")

    def expected_purchases_grid(self, data, t) -> np.ndarray:
        """Expected purchases for every horizon in ``t`` (1-d) and customer: shape ``(len(t), n)``."""
        horizons = _checks.times(t)
        if horizons.ndim != 1:
            raise InvalidArgumentError(f"t must be a 1-d sequence of horizons; got shape {horizons.shape}.")
        frame, history = self._history(data)
        horizons = horizons[:, None]
        return self._per_customer(frame, lambda p, *h: self.maths.expected_purchases(p, horizons, *h), *history)

    def expected_purchases_new_customer(self, t, *, covariates=None):
        """Expected purchases in ``(0, t]`` by a newly acquired customer (scalar or array ``t``, finite
        and 0 or more).

        Parameters
        ----------
        t : float or array_like
            Horizon(s) in the data's time unit.
        covariates : pandas.DataFrame, optional
            For a model with covariates (then required): one row per customer profile with the
            covariate columns (levels seen at fit time). The result is then a Series per profile
            (scalar ``t``) or a DataFrame with a row per profile and a column per horizon.
        """
        params = self._require_fitted()
        t = _checks.times(t)
        _covariates.require_no_profiles(self, covariates, "a new customer's expected purchases")
        if covariates is None:
            return self.maths.expected_purchases_new_customer(params, t)
        index, per_profile = _covariates.profile_params(self, covariates)
        values = np.array([self.maths.expected_purchases_new_customer(p, t) for p in per_profile])
        if t.ndim == 0:
            return pd.Series(values, index=index, name="expected_purchases")
        return pd.DataFrame(values.reshape(len(index), -1), index=index, columns=t.ravel())

    def probability_of_purchases(self, t, n):
        """P(X(t) = n): probability that a newly acquired customer makes exactly ``n`` repeat
        purchases in ``(0, t]``; ``t`` and ``n`` (whole, non-negative) broadcast.

        Available when the ``maths`` module provides ``probability_of_purchases`` (BG/NBD, MBG/NBD, Pareto/NBD).
        """
        params = self._require_fitted()
        if self.has_covariates:
            raise NotImplementedError(f"{type(self).__name__} with covariates does not provide P(X(t) = n) "
                                      "by profile yet; fit the model without covariates for the frequency "
                                      "diagnostics.")
        pmf = getattr(self.maths, "probability_of_purchases", None)
        if pmf is None:
            raise NotImplementedError(f"{type(self).__name__} does not provide P(X(t) = n) yet; the "
                                      "frequency diagnostics need it. Use BetaGeoModel or ModifiedBetaGeoModel.")
        n = _checks.numbers(n, name="n", minimum=0.0, rule="whole numbers of repeat purchases (0, 1, 2, ...)")
        if np.any(n != np.round(n)):
            raise InvalidArgumentError(f"n must be whole numbers of repeat purchases (0, 1, 2, ...); got "
                                       f"{n[n != np.round(n)][:5].tolist()}.")
        return pmf(params, _checks.times(t), n)

    @classmethod
    def simulate(cls, params, T, *, rng) -> pd.DataFrame:
        """Simulate a summary (``frequency``, ``recency``, ``T``) from known parameters.

        Parameters
        ----------
        params : dict or sequence
            Parameter values by name, or in ``param_names`` order.
        T : array_like
            Observation length of each customer.
        rng : numpy.random.Generator
            Seeded generator.
        """
        values = [params[p] for p in cls.param_names] if isinstance(params, dict) else params
        draws = cls.maths.simulate(values, T, rng=rng)
        return pd.DataFrame({"frequency": draws["x"], "recency": draws["t_x"], "T": draws["T"]})

    @classmethod
    def simulate_summary(cls, params, n: int, *, rng) -> pd.DataFrame:
        """A realistic summary of ``n`` customers: cohorts observed for 13 to 78 weeks."""
        data = cls.simulate(params, rng.uniform(13.0, 78.0, n), rng=rng)
        data.attrs["time_unit"] = "W"
        return data
