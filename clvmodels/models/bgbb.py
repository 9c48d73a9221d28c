"""BG/BB estimator (Fader, Hardie & Shang 2010); the maths is in :mod:`clvmodels.likelihoods.bgbb`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import invalid_rows_error, require_columns
from .. import _checks
from ..exceptions import InvalidArgumentError
from ..likelihoods import bgbb
from . import _covariates
from .base import Boundary, MLEModel

_REMEDY = "Build the summary with clvmodels.data.discrete_summary(), or fix or drop these customers."


class BetaGeoBetaBinomModel(MLEModel):
    """BG/BB model of discrete purchase opportunities (Fader, Hardie & Shang 2010).

    While alive, a customer transacts at each opportunity with probability ``p ~ Beta(alpha,
    beta)``; at the start of each opportunity a living customer drops out for good with
    probability ``theta ~ Beta(gamma, delta)``. Fit on a summary with ``frequency`` (repeat
    transactions), ``recency`` (opportunity of the last one, 0 without any) and ``n_periods``
    (opportunities after the trial), as built by :func:`clvmodels.data.discrete_summary`, or on
    pattern counts with ``weights=``. Horizons ``t`` count opportunities. See
    :class:`~clvmodels.models.base.MLEModel` for the settings.

    Examples
    --------
    >>> from clvmodels import BetaGeoBetaBinomModel, datasets
    >>> model = BetaGeoBetaBinomModel().fit(datasets.load_donations(), weights="count")
    >>> model.params_.round(3).to_dict()  # FHS (2010): 1.204, 0.750, 0.657, 2.783
    {'alpha': 1.204, 'beta': 0.75, 'gamma': 0.657, 'delta': 2.783}
    """

    name = "bgbb"
    kind = "discrete_purchase"
    param_names = bgbb.PARAM_NAMES
    rate_params = bgbb.RATE_PARAMS
    data_columns = ("frequency", "recency", "n_periods")
    covariate_roles = ("purchase", "dropout")  # alpha_i = alpha e^{g_p x}, gamma_i = gamma e^{g_d x}
    boundaries = (
        Boundary("gamma", below=1e-4, meaning="gamma -> 0 means almost nobody drops out; the data "
                 "show no sign of churn, and a beta-binomial model without dropout describes them "
                 "as well."),
        Boundary("alpha", above=1e4, meaning="alpha, beta -> infinity means transaction "
                 "probabilities hardly differ between customers (no heterogeneity)."),
    )
    _loglik = staticmethod(bgbb.loglik)
    _loglik_grad = staticmethod(bgbb.loglik_grad)
    _make_objective = staticmethod(bgbb.make_objective)

    # -- data -----------------------------------------------------------------------------------
    def _columns(self, data, *, signed=()):
        """Validate a discrete summary: whole numbers with ``frequency <= recency <= n_periods``
        and ``recency = 0`` exactly when ``frequency = 0``."""
        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
        require_columns(frame, self.data_columns, what="The summary",
                        hint="Build it with clvmodels.data.discrete_summary().")
        frame, columns = super()._columns(frame, signed=signed)
        x, t_x, n = (columns[c] for c in self.data_columns)
        for name, values in (("recency", t_x), ("n_periods", n)):
            fractional = values != np.round(values)
            if fractional.any():
                raise invalid_rows_error(name, "must be a whole number of transaction opportunities",
                                         fractional, frame, _REMEDY)
        rules = (
            ("recency", "must not exceed n_periods (the last transaction cannot come after the last "
             "observed opportunity)", t_x > n),
            ("frequency", "must not exceed recency (x transactions need at least x opportunities up "
             "to the last one)", x > t_x),
            ("recency", "must be 0 when frequency is 0 (no repeat transaction, so no opportunity "
             "of the last one)", (x == 0) & (t_x > 0)),
        )
        for name, rule, bad in rules:
            if bad.any():
                raise invalid_rows_error(name, rule, bad, frame, _REMEDY)
        return frame, columns

    def _data_problem(self, columns, weights):
        """Some opportunity was observed after the trial, and some customer transacted at one."""
        n = weights.sum()
        if not np.any(columns["n_periods"] > 0):
            return (f"no transaction opportunity after the trial was observed (n_periods = 0 for all {n:g} "
                    "customers), so there is nothing to learn from. Observe the cohort for more periods, or "
                    "fix n_periods in the summary (clvmodels.data.discrete_summary()).")
        if not np.any(columns["frequency"] > 0):
            return (f"no customer transacted again after the trial (frequency is 0 for all {n:g} customers), "
                    "so the transaction and dropout probabilities cannot be told apart. Observe the cohort "
                    "for more periods, or check the summary (clvmodels.data.discrete_summary()).")
        return None

    _probe_rows = {"frequency": [0.0, 1.0, 3.0, 6.0], "recency": [0.0, 1.0, 5.0, 6.0],
                   "n_periods": [1.0, 2.0, 6.0, 6.0]}

    def _probe_values(self, params):
        """The log-likelihood, P(alive) and expected transactions (next 5 opportunities) of the probe
        customers, and a new customer's expected transactions in 1 and 10 opportunities."""
        x, t_x, n = (np.asarray(self._probe_rows[c]) for c in self.data_columns)
        return np.concatenate([super()._probe_values(params), bgbb.probability_alive(params, x, t_x, n),
                               bgbb.expected_purchases(params, np.array(5.0), x, t_x, n),
                               bgbb.expected_purchases_new_customer(params, np.array([1.0, 10.0]))])

    def _default_start(self, columns, weights):
        # Beta(1, 1) for the dropout probability; the transaction probability's mean at the
        # observed repeat rate per opportunity (clipped away from 0 and 1).
        opportunities = max(np.average(columns["n_periods"], weights=weights), 1.0)
        rate = np.clip(np.average(columns["frequency"], weights=weights) / opportunities, 0.05, 0.95)
        return np.array([rate, 1 - rate, 1.0, 1.0]) * 2

    def _history(self, data):
        frame, c = self._prediction_frame(data)
        return frame, (c["frequency"], c["recency"], c["n_periods"])

    @staticmethod
    def _horizons(t) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(t != np.round(t)):
            raise InvalidArgumentError(f"t counts future transaction opportunities: it must hold whole "
                                       f"numbers >= 0, got {t.tolist()}.")
        return t

    # -- predictions ----------------------------------------------------------------------------
    def probability_alive(self, data) -> pd.Series:
        """P(alive at the next opportunity, ``n_periods + 1``) for each customer, eq. (11)."""
        frame, history = self._history(data)
        return pd.Series(self._per_customer(frame, bgbb.probability_alive, *history),
                         index=frame.index, name="p_alive")

    def churn_probability(self, data) -> pd.Series:
        """1 - P(alive at the next opportunity): the probability the customer has dropped out."""
        return (1 - self.probability_alive(data)).rename("churn_probability")

    def expected_purchases(self, data, t) -> pd.Series:
        """Expected transactions in the next ``t`` opportunities for each customer, eq. (13).

        Parameters
        ----------
        data : pandas.DataFrame
            Discrete summary (``frequency``, ``recency``, ``n_periods``).
        t : int
            Number of future opportunities.
        """
        frame, history = self._history(data)
        t = self._horizons(t)
        if t.ndim and self.has_covariates:  # one horizon per customer: split with the customers
            values = self._per_customer(frame, lambda p, t_, *h: bgbb.expected_purchases(p, t_, *h),
                                        np.broadcast_to(t, (len(frame),)), *history)
        else:
            values = self._per_customer(frame, lambda p, *h: bgbb.expected_purchases(p, t, *h), *history)
        return pd.Series(values, index=frame.index, name="expected_purchases")

    def expected_purchases_grid(self, data, t) -> np.ndarray:
        """Expected transactions (eq. 13) for every horizon in ``t`` (1-d, opportunities) and
        customer: shape ``(len(t), n)``."""
        frame, history = self._history(data)
        horizons = self._horizons(np.atleast_1d(t))[:, None]
        return self._per_customer(frame, lambda p, *h: bgbb.expected_purchases(p, horizons, *h), *history)

    def expected_purchases_new_customer(self, t, *, covariates=None):
        """Expected repeat transactions in the first ``t`` opportunities after a customer's trial,
        eq. (8) (scalar or array ``t``); per profile row of ``covariates`` for a model with
        covariates (as :meth:`clvmodels.BetaGeoModel.expected_purchases_new_customer`)."""
        params = self._require_fitted()
        t = self._horizons(t)
        _covariates.require_no_profiles(self, covariates, "a new customer's expected transactions")
        if covariates is None:
            return bgbb.expected_purchases_new_customer(params, t)
        index, per_profile = _covariates.profile_params(self, covariates)
        values = np.array([bgbb.expected_purchases_new_customer(p, t) for p in per_profile])
        if t.ndim == 0:
            return pd.Series(values, index=index, name="expected_purchases")
        return pd.DataFrame(values.reshape(len(index), -1), index=index, columns=t.ravel())

    def discounted_expected_residual_transactions(self, data, discount_rate: float) -> pd.Series:
        """DERT: expected future transactions, each discounted to the end of observation, eq. (14).

        Parameters
        ----------
        data : pandas.DataFrame
            Discrete summary (``frequency``, ``recency``, ``n_periods``).
        discount_rate : float
            Discount rate per opportunity (e.g. 0.1 for 10 % a year with yearly opportunities);
            must be positive.
        """
        d = _checks.number(discount_rate, name="discount_rate", minimum=0.0, strict=True,
                           rule="a positive number per opportunity (e.g. 0.1), finite")
        frame, history = self._history(data)
        values = self._per_customer(frame, lambda p, *h: bgbb.DERT(p, *h, d), *history)
        return pd.Series(values, index=frame.index, name="dert")

    # -- simulation -----------------------------------------------------------------------------
    @classmethod
    def simulate(cls, params, n_periods, *, rng) -> pd.DataFrame:
        """Simulate a discrete summary (``frequency``, ``recency``, ``n_periods``).

        Parameters
        ----------
        params : dict or sequence
            Parameter values by name, or in ``param_names`` order.
        n_periods : array_like of int
            Opportunities observed after the trial, one per customer.
        rng : numpy.random.Generator
            Seeded generator.
        """
        values = [params[p] for p in cls.param_names] if isinstance(params, dict) else params
        n_periods = np.atleast_1d(np.asarray(n_periods, dtype=np.int64))
        draws = bgbb.simulate(values, len(n_periods), n_periods, rng=rng)
        return pd.DataFrame({"frequency": draws["x"].astype(np.int64), "recency": draws["t_x"].astype(np.int64),
                             "n_periods": draws["n"].astype(np.int64)})

    @classmethod
    def simulate_summary(cls, params, n: int, *, rng) -> pd.DataFrame:
        """A realistic summary of ``n`` customers: yearly opportunities, cohorts observed for 4 to
        10 years after their trial (the donations cohort of FHS 2010 has 6)."""
        data = cls.simulate(params, rng.integers(4, 11, n), rng=rng)
        data.attrs["time_unit"] = "Y"
        return data
