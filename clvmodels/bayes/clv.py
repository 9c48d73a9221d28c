"""Posterior of discounted CLV from a Bayesian purchase model and a Bayesian spend model.

For each posterior draw ``s`` the purchase parameters ``theta_s`` and the spend parameters
``phi_s`` give one CLV per customer,

``CLV_is = margin * E[spend_i | phi_s] * sum_{k=1..H} (E[X_i(k m) | theta_s] - E[X_i((k-1) m) | theta_s]) / (1 + d)^k``,

the formula of :func:`clvmodels.customer_lifetime_value`. The mean, sd and interval over ``s``
therefore carry the uncertainty of both models. The two are fitted separately; under the
Gamma-Gamma assumption (spend independent of the purchase process) with independent priors their
joint posterior is the product of the two, so pairing draw ``s`` of one with draw ``s`` of the
other (after a random choice of draws from each) is a draw from the joint posterior.

All ``H`` horizons are one vectorised call of the expected-purchase maths, with shape
``(H, draws, histories)``, in chunks of distinct histories.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..clv import MONTH_LENGTH
from ..likelihoods import gamma_gamma
from . import _predict


def _month_length(purchase_model, data, month_length):
    if month_length is not None:
        return float(month_length)
    unit = getattr(purchase_model, "time_unit_", None) or data.attrs.get("time_unit")
    if unit not in MONTH_LENGTH:
        raise ValueError("The time unit of the purchase model is unknown, so months cannot be converted: "
                         "fit it on a summary from clvmodels.rfm_summary, or give month_length= explicitly "
                         f"(got unit {unit!r}).")
    return MONTH_LENGTH[unit]


def _joint_draws(purchase_model, spend_model, n_draws, random_state) -> tuple[np.ndarray, int]:
    """Paired draws ``[purchase params | spend params]`` and the number of purchase parameters."""
    purchase = purchase_model.posterior_draws().to_numpy()
    spend = spend_model.posterior_draws().to_numpy()
    n = min(len(purchase), len(spend)) if n_draws is None else int(n_draws)
    if n < 1 or n > min(len(purchase), len(spend)):
        raise ValueError(f"n_draws must be between 1 and {min(len(purchase), len(spend))} (the smaller "
                         f"posterior), got {n_draws!r}.")
    rng = np.random.default_rng(random_state)
    pick_p = rng.choice(len(purchase), n, replace=False)
    pick_s = rng.choice(len(spend), n, replace=False)
    return np.hstack([purchase[pick_p], spend[pick_s]]), purchase.shape[1]


def _clv_function(maths, k: int, horizon_months: int, month: float, discount_rate: float, margin: float):
    horizons = (np.arange(1, horizon_months + 1, dtype=float) * month)[:, None, None]
    discount = (1 + discount_rate) ** -np.arange(1, horizon_months + 1, dtype=float)

    def clv(params, c):
        cumulative = maths.expected_purchases(params[:k], horizons, c["frequency"], c["recency"], c["T"])
        increments = np.diff(cumulative, axis=0, prepend=0.0)
        purchases = np.tensordot(discount, increments, axes=(0, 0))
        spend = gamma_gamma.expected_spend(params[k:], c["frequency"], c["monetary_value"])
        return margin * spend * purchases

    return clv


def customer_lifetime_value(purchase_model, spend_model, data: pd.DataFrame, *, horizon_months: int = 12,
                            discount_rate: float = 0.01, margin: float = 1.0, month_length: float | None = None,
                            ci_level: float | None = None, n_draws: int | None = None, random_state=None,
                            return_draws: bool = False, max_cells: int | None = None) -> pd.DataFrame:
    """Posterior mean, sd and credible interval of each customer's discounted CLV.

    Parameters
    ----------
    purchase_model : fitted Bayesian purchase model (e.g. :class:`~clvmodels.bayes.BayesBetaGeoModel`)
    spend_model : fitted :class:`~clvmodels.bayes.BayesGammaGammaModel`
    data : pandas.DataFrame
        Summary with ``frequency``, ``recency``, ``T`` and ``monetary_value``.
    horizon_months, discount_rate, margin, month_length
        As for :func:`clvmodels.customer_lifetime_value`.
    ci_level : float, optional
        Probability of the equal-tailed interval (default: the purchase model's ``ci_level``).
    n_draws : int, optional
        Joint draws to use (default: as many as the smaller posterior has).
    random_state : int, optional
        Seed of the choice and pairing of draws (default: the purchase model's ``random_seed``).
    return_draws : bool, default False
        Return every draw (rows) for every customer (columns) instead of the summary; meant for
        a subset of customers (at most ``max_cells`` values, 50 million by default).

    Returns
    -------
    pandas.DataFrame
        ``mean``, ``sd``, ``lower``/``upper`` per customer, indexed like ``data``.
    """
    if int(horizon_months) != horizon_months or horizon_months < 1:
        raise ValueError(f"horizon_months must be a positive whole number, got {horizon_months!r}.")
    if discount_rate <= -1:
        raise ValueError(f"discount_rate must be greater than -1, got {discount_rate!r}.")
    purchase_model._require_fitted()
    spend_model._require_fitted()
    if not getattr(purchase_model, "broadcasts_draws", False):
        raise NotImplementedError(f"CLV from a {type(purchase_model).__name__} posterior is not supported yet; "
                                  "use BayesBetaGeoModel or BayesModifiedBetaGeoModel.")
    frame, columns = purchase_model._prediction_columns(data)
    _, spend_columns = spend_model._prediction_columns(data)
    # expected spend ignores monetary_value where frequency == 0: zero it so those customers
    # share distinct histories with their purchase twins
    columns["monetary_value"] = np.where(columns["frequency"] > 0, spend_columns["monetary_value"], 0.0)
    seed = purchase_model.random_seed if random_state is None else random_state
    draws, k = _joint_draws(purchase_model, spend_model, n_draws, seed)
    func = _clv_function(purchase_model.maths, k, int(horizon_months),
                         _month_length(purchase_model, frame, month_length), discount_rate, margin)
    groups = purchase_model._slow_draws(draws[:, :k])
    if return_draws:
        return _predict.all_draws(func, draws, columns, index=frame.index, max_cells=max_cells, groups=groups)
    level = purchase_model.ci_level if ci_level is None else ci_level
    return _predict.summarise(func, draws, columns, ci_level=level, index=frame.index, name="clv",
                              cells_per_value=int(horizon_months), groups=groups)
