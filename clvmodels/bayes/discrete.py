"""The Bayesian discrete-time models: BG/BB (purchase opportunities) and sBG (contract renewals).

Declared on :class:`~clvmodels.bayes._base.BayesModel` like the continuous-time models in
:mod:`clvmodels.bayes.models`: each names the MLE class it parallels, whose validation, compression
and likelihood (BG/BB's fused ``make_objective``; sBG's ``loglik`` and ``loglik_grad``) the
posterior uses unchanged. The prediction maths is :mod:`clvmodels.likelihoods.bgbb` and
:mod:`clvmodels.likelihoods.sbg`. Per-customer predictions return the posterior ``mean``, ``sd``
and an equal-tailed interval at ``ci_level``; population curves (by opportunity or renewal
decision) return the same columns indexed by ``t``.

Every parameter of both models is a dimensionless beta-mixing shape (no time unit), so the default
priors are log-normal with median 1 and log-sd 3 for all of them (:mod:`clvmodels.bayes.priors`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..likelihoods import bgbb, sbg
from ..models.bgbb import BetaGeoBetaBinomModel
from ..models.sbg import ShiftedBetaGeoModel
from . import _predict
from ._predict import Predictions, per_draw
from ._base import BayesModel


class _DiscreteModel(Predictions, BayesModel):
    """Shared body: no scale parameter, and population curves summarised over the draws."""

    def _data_scales(self, columns, weights):
        return {}  # every parameter is a dimensionless shape: median-1 priors

    def _curve(self, func, t, *, name, ci_level, n_draws, random_state) -> pd.DataFrame:
        """Posterior ``mean``, ``sd`` and interval of ``func(params, t)`` (shape ``(S, len(t))``),
        one row per value of ``t`` (the index, named ``t``)."""
        self._require_fitted()
        t = np.atleast_1d(t)
        draws = self._draw_matrix(n_draws, random_state)
        params = tuple(draws[:, [j]] for j in range(draws.shape[1]))
        with np.errstate(all="ignore"):
            values = np.broadcast_to(func(params, t), (len(draws), len(t)))
        stats = _predict.Summary(len(t), self.ci_level if ci_level is None else ci_level)
        stats.add(slice(None), values)
        return stats.table(np.arange(len(t)), index=pd.Index(t.astype(np.int64), name="t"), name=name,
                           n_draws=len(draws))


def _positive_rate(discount_rate) -> float:
    d = float(discount_rate)
    if not np.isfinite(d) or d <= 0:
        raise ValueError(f"discount_rate must be a positive number per period (e.g. 0.1 for 10 %), "
                         f"got {discount_rate!r}.")
    return d


class BayesBetaGeoBetaBinomModel(_DiscreteModel):
    """BG/BB fitted by Bayesian inference; the likelihood is
    :class:`~clvmodels.BetaGeoBetaBinomModel`'s (Fader, Hardie & Shang 2010, eq. 5).

    Fit on a discrete summary (``frequency``, ``recency``, ``n_periods``) or on pattern counts with
    ``weights=``, as the MLE model. Horizons ``t`` count transaction opportunities.

    Default priors (see :mod:`clvmodels.bayes.priors`): log-normal with median 1 and log-sd 3 for
    ``alpha, beta`` (transaction probability ``p ~ Beta(alpha, beta)``) and ``gamma, delta``
    (dropout probability ``theta ~ Beta(gamma, delta)``): all four are dimensionless, median 1 is
    the uniform beta, and the prior spans about 0.0025 to 400 with 95 % probability. Settings are
    those of :class:`~clvmodels.bayes._base.BayesModel`.

    Examples
    --------
    >>> from clvmodels import datasets
    >>> from clvmodels.bayes import BayesBetaGeoBetaBinomModel
    >>> donations = datasets.load_donations()
    >>> model = BayesBetaGeoBetaBinomModel(method="map").fit(donations, weights="count")
    >>> model.params_.round(2).to_dict()  # the posterior mode; the MLE is (1.204, 0.750, 0.657, 2.783)
    {'alpha': 1.2, 'beta': 0.75, 'gamma': 0.65, 'delta': 2.74}
    """

    name = "bayes_bgbb"
    mle_class = BetaGeoBetaBinomModel
    shape_params = bgbb.PARAM_NAMES

    def _quantities(self, arg=None):
        """Per-customer quantities; ``arg`` is the horizon of ``expected_purchases`` and the
        discount rate of ``discounted_expected_residual_transactions`` (checked when evaluated)."""
        def alive(params, c):
            return bgbb.probability_alive(params, c["frequency"], c["recency"], c["n_periods"])

        quantities = {"probability_alive": alive}
        if arg is None:
            return quantities

        def purchases(params, c):  # eq. (13); its gamma = 1 branch takes a scalar gamma
            t = BetaGeoBetaBinomModel._horizons(arg)
            return per_draw(bgbb.expected_purchases)(params, t, c["frequency"], c["recency"], c["n_periods"])

        def dert(params, c):  # eq. (14)
            return bgbb.DERT(params, c["frequency"], c["recency"], c["n_periods"], _positive_rate(arg))

        quantities.update(expected_purchases=purchases, discounted_expected_residual_transactions=dert)
        return quantities

    def probability_alive(self, data, *, ci_level=None, n_draws=None, random_state=None) -> pd.DataFrame:
        """P(alive at the next opportunity, ``n_periods + 1``), FHS (2010) eq. (11): posterior
        ``mean``, ``sd``, ``lower``/``upper``.

        Parameters
        ----------
        data : pandas.DataFrame
            Discrete summary with ``frequency``, ``recency`` and ``n_periods``.
        ci_level : float, optional
            Probability of the equal-tailed interval (default: the model's ``ci_level``).
        n_draws : int, optional
            Use this many posterior draws, chosen at random (default: all).
        random_state : int, optional
            Seed of that choice (default: the model's ``random_seed``).
        """
        return self._predict("probability_alive", self._quantities()["probability_alive"], data,
                             ci_level=ci_level, n_draws=n_draws, random_state=random_state)

    def expected_purchases(self, data, t, *, ci_level=None, n_draws=None, random_state=None) -> pd.DataFrame:
        """Expected transactions in the next ``t`` opportunities, FHS (2010) eq. (13): posterior
        ``mean``, ``sd``, interval.

        The arguments are those of :meth:`probability_alive`, plus ``t``, a whole number of future
        opportunities. The maths is evaluated once per draw (vectorised over the distinct histories).
        """
        BetaGeoBetaBinomModel._horizons(t)
        return self._predict("expected_purchases", self._quantities(t)["expected_purchases"], data,
                             ci_level=ci_level, n_draws=n_draws, random_state=random_state)

    def discounted_expected_residual_transactions(self, data, discount_rate, *, ci_level=None, n_draws=None,
                                                  random_state=None) -> pd.DataFrame:
        """DERT, FHS (2010) eq. (14): expected future transactions, each discounted to the end of
        observation by ``(1 + discount_rate)`` per opportunity: posterior ``mean``, ``sd``, interval.

        The arguments are those of :meth:`probability_alive`, plus ``discount_rate`` per
        opportunity (positive).
        """
        _positive_rate(discount_rate)
        func = self._quantities(discount_rate)["discounted_expected_residual_transactions"]
        return self._predict("dert", func, data, ci_level=ci_level, n_draws=n_draws, random_state=random_state)

    def expected_purchases_new_customer(self, t, *, ci_level=None, n_draws=None, random_state=None) -> pd.DataFrame:
        """Expected repeat transactions in the first ``t`` opportunities after a customer's trial,
        FHS (2010) eq. (8): one row per horizon in ``t`` (whole numbers, the index) with the
        posterior ``mean``, ``sd`` and interval."""
        t = BetaGeoBetaBinomModel._horizons(np.atleast_1d(t))
        return self._curve(per_draw(bgbb.expected_purchases_new_customer), t, name="expected_purchases_new_customer",
                           ci_level=ci_level, n_draws=n_draws, random_state=random_state)


class BayesShiftedBetaGeoModel(_DiscreteModel):
    """sBG retention model fitted by Bayesian inference; the likelihood is
    :class:`~clvmodels.ShiftedBetaGeoModel`'s (Fader & Hardie 2007).

    Fit on ``tenure`` and ``churned`` rows, one per customer or weighted (e.g. from
    :meth:`~clvmodels.ShiftedBetaGeoModel.rows_from_survival` with ``weights="count"``).

    Default priors: log-normal with median 1 and log-sd 3 for ``alpha`` and ``beta`` of the
    cancellation probability ``theta ~ Beta(alpha, beta)`` (dimensionless; median 1 is the uniform
    beta). Settings are those of :class:`~clvmodels.bayes._base.BayesModel`.

    The MLE model's ``expected_remaining_lifetime`` (``(beta + tenure) / (alpha - 1)``) is not
    offered: it is infinite for every draw with ``alpha <= 1``, so its posterior mean is infinite
    and its interval undefined whenever the posterior puts any mass there, as it does for both
    cohorts of Fader & Hardie (2007). Use :meth:`discounted_expected_residual_lifetime` with a
    positive discount rate.

    Examples
    --------
    >>> from clvmodels import ShiftedBetaGeoModel
    >>> from clvmodels.bayes import BayesShiftedBetaGeoModel
    >>> rows = ShiftedBetaGeoModel.rows_from_survival([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> model = BayesShiftedBetaGeoModel(method="map").fit(rows, weights="count")
    >>> model.params_.round(2).to_dict()  # the posterior mode; the MLE is (0.704, 1.182)
    {'alpha': 0.69, 'beta': 1.15}
    """

    name = "bayes_sbg"
    mle_class = ShiftedBetaGeoModel
    shape_params = sbg.PARAM_NAMES

    def _prediction_columns(self, data):
        """As the MLE model's predictions: ``churned`` may be left out (every customer active)."""
        self._require_fitted()
        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
        if "churned" not in frame.columns and "tenure" in frame.columns:
            frame = frame.assign(churned=0)
        return self._mle()._columns(frame)

    def _quantities(self, discount_rate=None):
        """Per-customer quantities; ``discount_rate`` (checked when evaluated) is DERL's."""
        if discount_rate is None:
            return {}

        def derl(params, c):  # 0 for churned customers; sbg.derl takes scalar parameters
            values = per_draw(sbg.derl)(params, c["tenure"], _positive_rate(discount_rate))
            return np.where(c["churned"] == 1, 0.0, values) * c.get("contract_value", 1.0)

        return {"discounted_expected_residual_lifetime": derl}

    # -- cohort curves --------------------------------------------------------------------------
    def survival(self, t, *, ci_level=None, n_draws=None, random_state=None) -> pd.DataFrame:
        """``S(t)``, the share of a new cohort still active after ``t`` renewal decisions
        (``t >= 0``, whole): one row per ``t`` with the posterior ``mean``, ``sd`` and interval.

        Parameters
        ----------
        t : int or array_like of int
            Renewal decisions.
        ci_level, n_draws, random_state
            As for :meth:`discounted_expected_residual_lifetime`.
        """
        t = ShiftedBetaGeoModel._periods(np.atleast_1d(t), first=0, what="t")
        return self._curve(sbg.survival, t, name="survival", ci_level=ci_level, n_draws=n_draws,
                           random_state=random_state)

    def retention_rate(self, t, *, ci_level=None, n_draws=None, random_state=None) -> pd.DataFrame:
        """``r_t = (beta + t - 1) / (alpha + beta + t - 1)``, Fader & Hardie (2007) eq. (8), for
        periods ``t >= 1``: one row per ``t`` with the posterior ``mean``, ``sd`` and interval."""
        t = ShiftedBetaGeoModel._periods(np.atleast_1d(t), first=1, what="t")
        return self._curve(sbg.retention_rate, t, name="retention_rate", ci_level=ci_level, n_draws=n_draws,
                           random_state=random_state)

    def churn_rate(self, t, *, ci_level=None, n_draws=None, random_state=None) -> pd.DataFrame:
        """``1 - r_t = alpha / (alpha + beta + t - 1)`` for periods ``t >= 1``: one row per ``t``
        with the posterior ``mean``, ``sd`` and interval."""
        t = ShiftedBetaGeoModel._periods(np.atleast_1d(t), first=1, what="t")
        return self._curve(sbg.churn_rate, t, name="churn_rate", ci_level=ci_level, n_draws=n_draws,
                           random_state=random_state)

    # -- customers ------------------------------------------------------------------------------
    def discounted_expected_residual_lifetime(self, data, discount_rate, *, ci_level=None, n_draws=None,
                                              random_state=None) -> pd.DataFrame:
        """DERL of each customer, Fader & Hardie (2010) eq. (6); 0 for churned customers:
        posterior ``mean``, ``sd`` and interval.

        The convention is the MLE model's
        (:meth:`~clvmodels.ShiftedBetaGeoModel.discounted_expected_residual_lifetime`): payments
        still to come, valued at the end of the current period. The maths is evaluated once per
        draw, so pass ``n_draws`` (a few hundred) for speed on large posteriors.

        Parameters
        ----------
        data : pandas.DataFrame
            ``tenure`` and optionally ``churned`` (all active when absent).
        discount_rate : float
            Discount rate per contract period; positive (at 0, DERL is the expected remaining
            lifetime, infinite for draws with ``alpha <= 1``).
        ci_level : float, optional
            Probability of the equal-tailed interval (default: the model's ``ci_level``).
        n_draws : int, optional
            Use this many posterior draws, chosen at random (default: all).
        random_state : int, optional
            Seed of that choice (default: the model's ``random_seed``).
        """
        _positive_rate(discount_rate)
        func = self._quantities(discount_rate)["discounted_expected_residual_lifetime"]
        return self._predict("derl", func, data, ci_level=ci_level, n_draws=n_draws, random_state=random_state)

    def customer_lifetime_value(self, data, *, contract_value, discount_rate, ci_level=None, n_draws=None,
                                random_state=None) -> pd.DataFrame:
        """Residual lifetime value, DERL times the payment per period (Fader & Hardie 2010), with
        the MLE model's convention: posterior ``mean``, ``sd`` and interval per customer.

        Parameters
        ----------
        data : pandas.DataFrame
            ``tenure`` and optionally ``churned``.
        contract_value : float or array_like
            Payment per period: one number, or one per row of ``data``.
        discount_rate : float
            Discount rate per contract period; positive.
        ci_level, n_draws, random_state
            As for :meth:`discounted_expected_residual_lifetime`.
        """
        d = _positive_rate(discount_rate)
        frame, columns = self._prediction_columns(data)
        value = np.asarray(contract_value, dtype=float)
        if value.ndim not in (0, 1) or (value.ndim == 1 and value.shape != (len(frame),)) \
                or not np.all(np.isfinite(value)):
            raise ValueError(f"contract_value must be one finite number or {len(frame)} of them, one per "
                             f"row of data (got shape {value.shape}).")
        columns = {**columns, "contract_value": np.broadcast_to(value, (len(frame),)).copy()}
        draws = self._draw_matrix(n_draws, random_state)
        return _predict.summarise(self._quantities(d)["discounted_expected_residual_lifetime"], draws, columns,
                                  ci_level=self.ci_level if ci_level is None else ci_level, index=frame.index,
                                  name="clv")
