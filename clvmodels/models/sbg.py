"""sBG retention estimator (Fader & Hardie 2007); the maths is in :mod:`clvmodels.likelihoods.sbg`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import invalid_rows_error, require_columns, require_rows
from ..exceptions import InvalidArgumentError, InvalidValueError
from ..likelihoods import sbg
from . import _covariates
from .base import Boundary, MLEModel

_HINT = ("Pass one row per customer (or per group, with a count column as weights); build rows from "
         "cohort survivor counts with ShiftedBetaGeoModel.rows_from_survival().")
_REMEDY = "Fix or drop these rows; ShiftedBetaGeoModel.rows_from_survival() builds valid rows from a cohort."


def check_survivors(survivors) -> np.ndarray:
    """A cohort's survivors per renewal as floats, or one clear error: at least two finite numbers,
    a positive cohort size first, none negative, never increasing."""
    values = survivors.to_numpy() if isinstance(survivors, pd.Series) else np.asarray(survivors)
    try:
        numbers = values.astype(float)
    except (TypeError, ValueError):
        numbers = None
    if numbers is None or numbers.ndim != 1 or len(numbers) < 2 or not np.all(np.isfinite(numbers)):
        raise InvalidValueError(
            f"survivors must be at least two finite numbers (got {survivors!r}): the cohort size at acquisition, "
            "then the number (or share) still active after each renewal decision, e.g. [1000, 631, 468].")
    if numbers[0] <= 0 or np.any(numbers < 0):
        raise InvalidValueError(f"survivors must be non-negative with a positive cohort size first; got "
                                f"{numbers.tolist()[:8]}.")
    rising = np.flatnonzero(np.diff(numbers) > 0) + 1
    if len(rising):
        shown = ", ".join(f"t = {i}: {numbers[i - 1]:g} -> {numbers[i]:g}" for i in rising[:5])
        raise InvalidValueError(
            f"survivors must not increase (a cohort only loses customers), but they rise at {len(rising)} "
            f"renewal(s) (first {min(5, len(rising))}: {shown}). Pass one cohort's customers still active, "
            "not new sign-ups or the active base of several cohorts.")
    return numbers


class ShiftedBetaGeoModel(MLEModel):
    """Shifted-beta-geometric (sBG) model of contract renewals (Fader & Hardie 2007).

    Customers on a contract of one period decide at the end of each period whether to renew; each
    cancels with a constant probability ``theta`` per decision, and ``theta ~ Beta(alpha, beta)``
    across customers. The cohort retention rate therefore rises with tenure (the least loyal leave
    first) and the discounted expected residual lifetime of a customer grows with the renewals
    already made (Fader & Hardie 2010).

    Fit on one row per customer with ``tenure``, the number of renewal decisions observed, and
    ``churned``: 1 if the customer cancelled at the last of them (lifetime ``T = tenure``), 0 if
    still active (``T > tenure``, right-censored; ``tenure = 0`` for a customer still in the first
    period). Rows may stand for groups of customers through ``fit(data, weights="count")``;
    :meth:`rows_from_survival` builds such rows from a cohort's survivor counts, and rows of
    cohorts acquired at different times may be stacked. The model has no time unit to rescale: a
    period is the contract length (``rate_params`` is empty). See
    :class:`~clvmodels.models.base.MLEModel` for the settings.

    Examples
    --------
    The "high end" cohort of Fader & Hardie (2007), 1,000 customers observed for 7 years:

    >>> from clvmodels import ShiftedBetaGeoModel
    >>> rows = ShiftedBetaGeoModel.rows_from_survival([1000, 869, 743, 653, 593, 551, 517, 491])
    >>> model = ShiftedBetaGeoModel().fit(rows, weights="count")
    >>> model.params_.round(3).to_dict()
    {'alpha': 0.668, 'beta': 3.806}
    >>> model.retention_rate([1, 2, 8]).round(3).tolist()
    [0.851, 0.878, 0.942]
    >>> model.discounted_expected_residual_lifetime({"tenure": [0, 7]}, discount_rate=0.1).round(2).tolist()
    [5.41, 7.53]
    """

    name = "sbg"
    covariate_roles = ("dropout",)  # alpha_i = alpha e^{g_d x}: the odds of churning times e^{g_d x}
    kind = "retention"
    param_names = sbg.PARAM_NAMES
    rate_params = sbg.RATE_PARAMS
    data_columns = ("tenure", "churned")
    boundaries = (
        Boundary("alpha", below=1e-4, meaning="alpha -> 0 means (almost) no customer ever cancels: "
                 "the data hold too few cancellations to estimate the model."),
        Boundary("alpha", above=1e4, meaning="alpha, beta -> infinity means every customer has the "
                 "same cancellation probability alpha / (alpha + beta): no heterogeneity, so retention "
                 "does not rise with tenure and a plain geometric model describes the data as well."),
    )
    _loglik = staticmethod(sbg.loglik)
    _loglik_grad = staticmethod(sbg.loglik_grad)

    # -- data -----------------------------------------------------------------------------------
    @classmethod
    def rows_from_survival(cls, survivors, *, time_unit: str | None = None) -> pd.DataFrame:
        """Weighted rows ``(tenure, churned, count)`` from one cohort's survivor counts.

        Parameters
        ----------
        survivors : sequence of float
            The cohort size at acquisition, then the number (or share) of its customers still
            active after each renewal decision, e.g. ``[1000, 631, 468, ...]`` as in Fader &
            Hardie (2007). Must not increase.
        time_unit : str, optional
            Length of a contract period (e.g. ``"M"``), stored in ``attrs["time_unit"]`` and
            remembered by ``fit``.

        Returns
        -------
        pandas.DataFrame
            For ``k`` renewal decisions: ``k`` rows ``(t, 1, survivors[t-1] - survivors[t])`` of
            customers lost at decision ``t`` and one row ``(k, 0, survivors[k])`` of customers still
            active. Fit with ``fit(rows, weights="count")``.
        """
        counts = np.asarray(survivors)
        values = check_survivors(survivors)
        lost = -np.diff(values)
        k = len(counts) - 1
        rows = pd.DataFrame({
            "tenure": np.r_[np.arange(1, k + 1), k],
            "churned": np.r_[np.ones(k, dtype=int), 0],
            "count": np.r_[lost, values[-1]].astype(np.int64 if counts.dtype.kind in "iu" else float),
        })
        if time_unit is not None:
            rows.attrs["time_unit"] = time_unit
        return rows

    def _columns(self, data, *, signed=()):
        """Validate retention rows: ``churned`` in {0, 1}, ``tenure`` a whole number, at least 1
        where churned."""
        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
        require_columns(frame, self.data_columns, what="The retention data", hint=_HINT)
        require_rows(frame, what="The retention data")
        values = {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
                  for c in self.data_columns}
        churned, tenure = values["churned"], values["tenure"]
        bad = ~np.isin(churned, (0.0, 1.0))
        if np.any(bad):
            raise invalid_rows_error("churned", "must be 1 (cancelled at the last renewal decision) or "
                                     "0 (still active)", bad, frame, _REMEDY)
        bad = ~(np.isfinite(tenure) & (tenure >= 0) & (tenure == np.round(tenure)))
        if np.any(bad):
            raise invalid_rows_error("tenure", "must be a whole number of renewal decisions, 0 or more",
                                     bad, frame, _REMEDY)
        bad = (churned == 1) & (tenure < 1)
        if np.any(bad):
            raise invalid_rows_error("tenure", "must be at least 1 where churned is 1 (customers can "
                                     "only cancel at a renewal decision, the first at the end of period 1)",
                                     bad, frame, _REMEDY)
        return frame, values

    def _data_problem(self, columns, weights):
        """Some customer reached a renewal decision (``tenure > 0``). A cohort without any cancellation is not flagged here: its fit lands on the boundary
        ``alpha -> 0`` (nobody cancels), which the fit reports as such."""
        if not np.any(columns["tenure"] > 0):
            return (f"no customer has reached a renewal decision yet (tenure is 0 for all {weights.sum():g} "
                    "customers), so nothing shows how often customers cancel. Observe the customers for at "
                    "least one contract period, or fix tenure (renewal decisions observed) in the data.")
        return None

    _probe_rows = {"tenure": [1.0, 3.0, 5.0, 12.0], "churned": [1.0, 0.0, 1.0, 0.0]}

    def _probe_values(self, params):
        """The log-likelihood of the probe customers and the survival and retention curves at 1, 10
        and 100 renewals."""
        t = np.array([1.0, 10.0, 100.0])
        return np.concatenate([super()._probe_values(params), sbg.survival(params, t),
                               sbg.retention_rate(params, t)])

    def _prediction_frame(self, data):
        """Like the base, but ``churned`` may be left out: every customer is then taken as active."""
        self._require_fitted()
        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
        if "churned" not in frame.columns and "tenure" in frame.columns:
            frame = frame.assign(churned=0)
        return self._columns(frame)

    @staticmethod
    def _periods(t, *, first: int, what: str) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        bad = ~(np.isfinite(t) & (t >= first) & (t == np.round(t)))
        if np.any(bad):
            raise InvalidArgumentError(f"{what} must be whole numbers of periods, {first} or more; "
                             f"got {np.atleast_1d(t)[np.atleast_1d(bad)][:5].tolist()}.")
        return t

    @staticmethod
    def _discount(discount_rate) -> float:
        d = float(discount_rate)
        if not np.isfinite(d) or d < 0:
            raise InvalidArgumentError(f"discount_rate must be a finite rate per period, 0 or more (e.g. 0.1 "
                             f"for 10 %), got {discount_rate!r}.")
        return d

    # -- cohort curves --------------------------------------------------------------------------
    def _curve(self, function, t, covariates, what: str) -> np.ndarray:
        """A cohort curve at ``t``; with covariates one row per profile of ``covariates``."""
        params = self._require_fitted()
        _covariates.require_no_profiles(self, covariates, what)
        if covariates is None:
            return function(params, t)
        _, per_profile = _covariates.profile_params(self, covariates)
        return np.array([function(p, t) for p in per_profile])

    def survival(self, t, *, covariates=None) -> np.ndarray:
        """``S(t)``: share of a new cohort still active after ``t`` renewal decisions, ``t >= 0``
        (Fader & Hardie 2007, the beta mixture of ``(1 - theta)^t``). A model with covariates
        needs ``covariates``, a table with one row per profile: the result then has one row per
        profile (shape ``(n_profiles,) + t.shape``); likewise for the other cohort curves."""
        return self._curve(sbg.survival, self._periods(t, first=0, what="t"), covariates, "the survival curve")

    def retention_rate(self, t, *, covariates=None) -> np.ndarray:
        """``r_t = (beta + t - 1) / (alpha + beta + t - 1)``, Fader & Hardie (2007) eq. (8): the
        share of the customers active in period ``t >= 1`` who renew at its end; rises with ``t``."""
        return self._curve(sbg.retention_rate, self._periods(t, first=1, what="t"), covariates,
                           "the retention rate")

    def churn_rate(self, t, *, covariates=None) -> np.ndarray:
        """``1 - r_t``: the share of the customers active in period ``t >= 1`` who cancel at its end."""
        return self._curve(sbg.churn_rate, self._periods(t, first=1, what="t"), covariates, "the churn rate")

    # -- customers ------------------------------------------------------------------------------
    def expected_remaining_lifetime(self, data) -> pd.Series:
        """Expected number of further renewals of each customer: ``(beta + tenure) / (alpha - 1)``
        for active customers, infinite if ``alpha <= 1``; 0 for churned ones.

        ``data`` needs ``tenure``; ``churned`` is optional (all active when absent). It is
        :meth:`discounted_expected_residual_lifetime` at a zero discount rate.
        """
        frame, c = self._prediction_frame(data)
        remaining = self._per_customer(frame, sbg.expected_remaining_lifetime, c["tenure"])
        value = np.where(c["churned"] == 1, 0.0, remaining)
        return pd.Series(value, index=frame.index, name="expected_remaining_lifetime")

    def discounted_expected_residual_lifetime(self, data, discount_rate) -> pd.Series:
        """DERL of each customer, Fader & Hardie (2010) eq. (6); 0 for churned customers.

        For an active customer with ``tenure`` renewals made (``n - 1`` in the paper), standing at
        the end of the current period just before the next renewal decision: the expected number of
        payments still to come, the one at that renewal undiscounted and each later one discounted
        by ``(1 + discount_rate)`` per period. The payment for the current period is already made
        and not counted. See :func:`clvmodels.likelihoods.sbg.derl`.

        Parameters
        ----------
        data : pandas.DataFrame
            ``tenure`` and optionally ``churned`` (all active when absent).
        discount_rate : float
            Discount rate per contract period, 0 or more.
        """
        frame, c = self._prediction_frame(data)
        d = self._discount(discount_rate)
        active = c["churned"] == 0
        value = np.zeros(len(frame))
        if np.any(active):
            value[active] = self._per_customer(frame[active], lambda p, tenure: sbg.derl(p, tenure, d),
                                               c["tenure"][active])
        return pd.Series(value, index=frame.index, name="derl")

    def customer_lifetime_value(self, data, *, contract_value, discount_rate) -> pd.Series:
        """Residual lifetime value: DERL times the payment per period (Fader & Hardie 2010).

        Convention: payments of ``contract_value`` at the start of each period; the value is taken
        at the end of the customer's current period, just before the next renewal decision, and
        counts the payments from that renewal on (that one undiscounted, as it is made at the
        valuation point); the current period's payment is sunk. Divide by ``1 + discount_rate`` to
        value one period earlier. Churned customers are worth 0.

        Parameters
        ----------
        data : pandas.DataFrame
            ``tenure`` and optionally ``churned``.
        contract_value : float or array_like
            Payment per period: one number, or one per row of ``data``.
        discount_rate : float
            Discount rate per contract period, 0 or more.

        Returns
        -------
        pandas.Series
            ``clv`` per customer, in the currency of ``contract_value``.
        """
        derl = self.discounted_expected_residual_lifetime(data, discount_rate)
        value = np.asarray(contract_value, dtype=float)
        if value.ndim not in (0, 1) or (value.ndim == 1 and value.shape != (len(derl),)) \
                or not np.all(np.isfinite(value)):
            raise ValueError(f"contract_value must be one finite number or {len(derl)} of them, one per "
                             f"row of data (got shape {value.shape}).")
        return (derl * value).rename("clv")

    # -- simulation -----------------------------------------------------------------------------
    @classmethod
    def simulate(cls, params, n: int, n_periods, *, rng) -> pd.DataFrame:
        """Simulate ``tenure`` and ``churned`` for ``n`` new customers observed for ``n_periods``
        renewal decisions each (a number or one per customer); ``params`` by name or in order."""
        values = [params[p] for p in cls.param_names] if isinstance(params, dict) else params
        draws = sbg.simulate(values, n, n_periods, rng=rng)
        return pd.DataFrame({"tenure": draws["tenure"].astype(int), "churned": draws["churned"].astype(int)})

    @classmethod
    def simulate_summary(cls, params, n: int, *, rng) -> pd.DataFrame:
        """A realistic customer table of ``n`` monthly subscribers from cohorts acquired over two
        years, so observed for 1 to 24 renewal decisions."""
        data = cls.simulate(params, n, rng.integers(1, 25, n), rng=rng)
        data.attrs["time_unit"] = "M"
        return data
