"""Gamma-Gamma spend estimator (Fader & Hardie 2013); maths in :mod:`clvmodels.likelihoods.gamma_gamma`."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .. import _checks
from ..data.validation import invalid_rows_error
from ..exceptions import AssumptionWarning
from ..likelihoods import gamma_gamma
from .base import Boundary, MLEModel

#: |correlation| between frequency and mean spend above which independence looks doubtful.
INDEPENDENCE_THRESHOLD = 0.3


class GammaGammaModel(MLEModel):
    """Gamma-Gamma model of the mean transaction value of repeat customers.

    Fit on a summary with ``frequency`` and ``monetary_value`` (the mean value of the repeat
    purchases). Only customers with ``frequency > 0`` inform the fit; the others are counted in
    ``n_excluded_`` (a dict by reason; it counts customers, so a row fitted with ``weights`` counts
    as many customers as its weight). Repeat customers whose ``monetary_value`` is not positive are
    an error, unless ``on_nonpositive="exclude"`` leaves them out of the fit (still counted). The
    model assumes spend is independent of purchase frequency: ``fit`` warns when their correlation
    among repeat customers exceeds 0.3 in absolute value.

    Parameters
    ----------
    on_nonpositive : {"raise", "exclude"}, default "raise"
        What to do with repeat customers whose mean spend is zero or negative.
    **settings
        ``ci_level``, ``start``, ``max_iter`` as for every model.

    Examples
    --------
    >>> from clvmodels import GammaGammaModel, datasets
    >>> summary = datasets.load_cdnow_summary()
    >>> GammaGammaModel().fit(summary).params_.round(2).to_dict()
    {'p': 6.25, 'q': 3.74, 'gamma': 15.45}
    """

    name = "gamma_gamma"
    kind = "spend"
    param_names = gamma_gamma.PARAM_NAMES
    data_columns = ("frequency", "monetary_value")
    covariate_roles = ("spend",)
    fit_signed_columns = ("monetary_value",)  # negative means (net returns) meet on_nonpositive
    boundaries = (
        Boundary("q", below=1.0, meaning="q <= 1 means the population mean spend p*gamma/(q-1) is "
                 "infinite; expected spend cannot be computed. Check for outliers in monetary_value."),
        Boundary("p", above=1e4, meaning="p -> infinity means every transaction of a customer has "
                 "the same value; spend varies only between customers."),
    )
    _loglik = staticmethod(gamma_gamma.loglik)
    _loglik_grad = staticmethod(gamma_gamma.loglik_grad)
    _make_objective = staticmethod(gamma_gamma.make_objective)

    def __init__(self, *, on_nonpositive: str = "raise", **settings) -> None:
        super().__init__(**settings)
        _checks.choice(on_nonpositive, ("raise", "exclude"), name="on_nonpositive")
        self.on_nonpositive = on_nonpositive

    def _fit_rows(self, frame, weights=None):
        x = frame["frequency"].to_numpy(dtype=float)
        weights = np.ones(len(x)) if weights is None else weights
        nonpositive = (x > 0) & (frame["monetary_value"].to_numpy(dtype=float) <= 0)
        if nonpositive.any() and self.on_nonpositive == "raise":
            raise invalid_rows_error(
                "monetary_value", "must be positive for customers with repeat purchases (the "
                "Gamma-Gamma model describes positive spend)", nonpositive, frame,
                "Exclude returns and zero-value orders before building the summary, or pass "
                "GammaGammaModel(on_nonpositive='exclude') to leave these customers out of the fit (counted).")
        used = (x > 0) & ~nonpositive
        # Customers, not rows: a row of a compressed summary stands for ``weights`` customers.
        self.n_excluded_ = {"no_repeat_purchase": int(round(weights[x == 0].sum())),
                            "nonpositive_monetary_value": int(round(weights[nonpositive].sum()))}
        if not used.any():
            raise invalid_rows_error("frequency", "needs at least one customer with a repeat purchase "
                                     "and positive spend to fit", ~used, frame, "Use a longer observation period.")
        return used

    def _check_fit(self, frame, columns, weights):
        # Weighted, so a compressed summary (unique rows with counts) gets the same answer as the
        # customers it stands for.
        keep = weights > 0
        x, m, w = columns["frequency"][keep], columns["monetary_value"][keep], weights[keep]
        self.frequency_spend_correlation_ = float("nan")
        if len(x) > 2 and np.ptp(x) > 0 and np.ptp(m) > 0:
            cov = np.cov(x, m, aweights=w)
            rho = cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
            self.frequency_spend_correlation_ = float(rho)
            if abs(rho) > INDEPENDENCE_THRESHOLD:
                warnings.warn(
                    f"GammaGammaModel: frequency and monetary_value are correlated (r = {rho:.2f}) "
                    "among repeat customers; the model assumes they are independent, so expected "
                    "spend and CLV may be biased. Consider segmenting customers or a model with "
                    "dependence.", AssumptionWarning, stacklevel=3)

    _probe_rows = {"frequency": [1.0, 5.0, 30.0], "monetary_value": [10.0, 50.0, 1000.0]}

    def _probe_values(self, params):
        """The log-likelihood and expected spend of repeat customers (a new customer's expected
        spend is infinite for q <= 1, a boundary a fit may reach, so it is not probed)."""
        x, m = (np.asarray(self._probe_rows[c]) for c in self.data_columns)
        return np.concatenate([super()._probe_values(params), gamma_gamma.expected_spend(params, x, m)])

    _fit_rows_note = " (Only repeat customers with positive spend inform the Gamma-Gamma model.)"

    def _data_problem(self, columns, weights):
        """Spend that varies between the repeat customers the fit uses: with one mean spend for
        all, nothing separates the spread between customers from that within."""
        if np.ptp(columns["monetary_value"]) == 0:
            return (f"every repeat customer has the same mean spend ({columns['monetary_value'][0]:g}), so the "
                    "spread of spend between customers cannot be told from that within a customer. Check "
                    "monetary_value in the summary (the mean value of the repeat purchases), or use more "
                    "customers.")
        return None

    def _default_start(self, columns, weights):
        # Method of moments where the data allow; otherwise p = 1, q = 2, gamma at the mean spend.
        start = gamma_gamma.moment_start(columns["frequency"], columns["monetary_value"], weights)
        if start is not None:
            return start
        return np.array([1.0, 2.0, max(np.average(columns["monetary_value"], weights=weights), 1e-9)])

    def expected_spend(self, data) -> pd.Series:
        """Expected mean transaction value per customer (population mean for ``frequency == 0``)."""
        frame, c = self._prediction_frame(data)
        values = self._per_customer(frame, gamma_gamma.expected_spend, c["frequency"], c["monetary_value"])
        return pd.Series(values, index=frame.index, name="expected_spend")

    @classmethod
    def simulate_summary(cls, params, n: int, *, rng) -> pd.DataFrame:
        """A realistic summary of ``n`` customers: Poisson(2) repeat purchases and their mean spend."""
        frequency = rng.poisson(2.0, n).astype(float)
        data = pd.DataFrame({"frequency": frequency, "monetary_value": cls.simulate(params, frequency, rng=rng)})
        data.attrs["time_unit"] = "W"
        return data

    @staticmethod
    def simulate(params, frequency, *, rng):
        """Simulate ``monetary_value`` for customers with the given repeat ``frequency``."""
        values = [params[p] for p in gamma_gamma.PARAM_NAMES] if isinstance(params, dict) else params
        return gamma_gamma.simulate(values, frequency, rng=rng)
