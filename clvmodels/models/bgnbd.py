"""BG/NBD estimator (Fader, Hardie & Lee 2005); the maths is in :mod:`clvmodels.likelihoods.bgnbd`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..likelihoods import bgnbd
from .base import Boundary, MLEModel


class BetaGeoModel(MLEModel):
    """BG/NBD purchase model: Poisson purchasing with gamma rates, beta-geometric dropout.

    Parameters are ``r, alpha`` (gamma heterogeneity of purchase rates; ``alpha`` in the data's time
    unit) and ``a, b`` (beta heterogeneity of the dropout probability). Fit on a summary with
    ``frequency``, ``recency`` and ``T``; see :class:`~clvmodels.models.base.MLEModel` for settings.

    Examples
    --------
    >>> from clvmodels import BetaGeoModel, datasets
    >>> model = BetaGeoModel().fit(datasets.load_cdnow_summary())
    >>> model.params_.round(3).to_dict()
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    """

    name = "bgnbd"
    kind = "purchase"
    param_names = bgnbd.PARAM_NAMES
    rate_params = bgnbd.RATE_PARAMS
    data_columns = ("frequency", "recency", "T")
    boundaries = (
        Boundary("a", below=1e-4, meaning="a -> 0 means almost nobody drops out; the data show no "
                 "sign of churn, and a plain NBD model describes them as well."),
        Boundary("r", above=1e4, meaning="r, alpha -> infinity means purchase rates hardly differ "
                 "between customers (no heterogeneity); the gamma mixing adds nothing."),
    )
    _loglik = staticmethod(bgnbd.loglik)
    _loglik_grad = staticmethod(bgnbd.loglik_grad)

    def _default_start(self, columns, weights):
        # r = 1 with alpha matching the mean purchase rate; a = b = 1 (uniform dropout).
        rate = max(np.average(columns["frequency"], weights=weights), 0.1) / max(np.average(columns["T"], weights=weights), 1e-9)
        return np.array([1.0, 1.0 / rate, 1.0, 1.0])

    def probability_alive(self, data) -> pd.Series:
        """P(alive) at the end of observation for each customer in ``data``."""
        frame, c = self._prediction_frame(data)
        values = bgnbd.probability_alive(self.params_.to_numpy(), c["frequency"], c["recency"], c["T"])
        return pd.Series(values, index=frame.index, name="p_alive")

    def churn_probability(self, data) -> pd.Series:
        """1 - P(alive): the probability the customer has already dropped out."""
        return (1 - self.probability_alive(data)).rename("churn_probability")

    def expected_purchases(self, data, t) -> pd.Series:
        """Expected purchases in the next ``t`` time units (the data's unit) for each customer."""
        frame, c = self._prediction_frame(data)
        values = bgnbd.expected_purchases(self.params_.to_numpy(), t, c["frequency"], c["recency"], c["T"])
        return pd.Series(values, index=frame.index, name="expected_purchases")

    def expected_purchases_grid(self, data, t) -> np.ndarray:
        """Expected purchases for every horizon in ``t`` (1-d) and customer: shape ``(len(t), n)``."""
        _, c = self._prediction_frame(data)
        t = np.asarray(t, dtype=float)[:, None]
        return bgnbd.expected_purchases(self.params_.to_numpy(), t, c["frequency"], c["recency"], c["T"])

    def expected_purchases_new_customer(self, t):
        """Expected purchases in ``(0, t]`` by a newly acquired customer (scalar or array ``t``)."""
        return bgnbd.expected_purchases_new_customer(self._require_fitted(), np.asarray(t, dtype=float))

    @staticmethod
    def simulate(params, T, *, rng):
        """Simulate a summary (``frequency``, ``recency``, ``T``) from known parameters."""
        draws = bgnbd.simulate([params[p] for p in bgnbd.PARAM_NAMES] if isinstance(params, dict) else params, T, rng=rng)
        return pd.DataFrame({"frequency": draws["x"], "recency": draws["t_x"], "T": draws["T"]})
