"""Prediction intervals from the parameter uncertainty of maximum-likelihood fits.

The estimator of the log-parameters is asymptotically normal with the covariance the fit reports
(delta method), so drawing ``theta ~ N(log params, cov_log)`` and predicting with each draw gives
the sampling distribution of any prediction; its percentiles are the interval. Draws are on the
log scale so every drawn parameter stays positive.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from . import _checks
from .clv import customer_lifetime_value
from .exceptions import InvalidArgumentError

_CHUNK_CELLS = 20_000_000  # draws x customers evaluated at once (bounded memory)


def parameter_draws(model, n_draws: int = 200, *, random_state=None) -> pd.DataFrame:
    """Draws of the parameters from the asymptotic normal of their logarithms.

    Parameters
    ----------
    model : fitted model
        Needs a finite ``covariance_`` (from ``fit`` or given to ``from_params``).
    n_draws : int
        Number of draws, a whole number from 1 to 100,000.
    random_state : int or numpy.random.Generator, optional
        Seed for reproducible draws.

    Returns
    -------
    pandas.DataFrame
        One row per draw, one column per parameter.
    """
    n_draws = _checks.draw_count(n_draws)
    params = model._require_fitted()
    cov = model.covariance_.to_numpy()
    if not np.all(np.isfinite(cov)):
        raise ValueError(f"{type(model).__name__} has no finite covariance, so its parameter uncertainty "
                         "is unknown: fit it on data, or pass covariance= to from_params.")
    cov_log = cov / np.outer(params, params)
    problem = _checks.covariance_problem(cov_log, list(model.param_names))
    if problem:
        raise InvalidArgumentError(f"{type(model).__name__}.covariance_ (on the log scale) is not a covariance: "
                                   f"{problem}. Parameter draws need the covariance of a fit: refit the model, "
                                   "or pass a symmetric positive semi-definite covariance= to from_params.")
    rng = np.random.default_rng(random_state)
    try:
        normal = rng.multivariate_normal(np.log(params), cov_log, size=n_draws, method="cholesky")
    except np.linalg.LinAlgError:  # semi-definite (singular): the eigendecomposition draws from it
        rng = np.random.default_rng(random_state)
        normal = rng.multivariate_normal(np.log(params), cov_log, size=n_draws, method="eigh")
    with np.errstate(over="ignore"):
        draws = np.exp(normal)
    if not np.all(np.isfinite(draws)):
        raise InvalidArgumentError(f"{type(model).__name__}.covariance_ is so wide that drawn parameters overflow "
                                   "(standard errors far beyond the estimates); intervals from it would be "
                                   "meaningless. Refit on more data, or score without intervals.")
    return pd.DataFrame(draws, columns=list(model.param_names))


def _with_params(model, values):
    # unchecked: a draw near a boundary (q close to 1) must not stop the interval; from_params checks
    return type(model)._from_values(np.asarray(values, dtype=float), time_unit=model.time_unit_)


def _interval(predict: Callable[[int, slice], np.ndarray], n_draws: int, n_rows: int,
              ci_level: float, index) -> pd.DataFrame:
    """Percentile interval of ``predict(draw, rows)`` over the draws, in chunks of customers."""
    ci_level = _checks.level(ci_level)
    lo_q, hi_q = 50 * (1 - ci_level), 50 * (1 + ci_level)
    lower, upper = np.empty(n_rows), np.empty(n_rows)
    chunk = max(1, _CHUNK_CELLS // max(n_draws, 1))
    for start in range(0, n_rows, chunk):
        rows = slice(start, min(start + chunk, n_rows))
        values = np.stack([predict(k, rows) for k in range(n_draws)])
        lower[rows], upper[rows] = np.percentile(values, [lo_q, hi_q], axis=0)
    label = f"{100 * ci_level:g}%"
    return pd.DataFrame({f"lower {label}": lower, f"upper {label}": upper}, index=index)


def prediction_interval(model, method: str, data: pd.DataFrame, *args, ci_level: float = 0.9,
                        n_draws: int = 200, random_state=None, **kwargs) -> pd.DataFrame:
    """Interval of a prediction from parameter uncertainty.

    Parameters
    ----------
    model : fitted model
    method : str
        Name of a per-customer prediction method, e.g. ``"probability_alive"``,
        ``"expected_purchases"`` or ``"expected_spend"``.
    data : pandas.DataFrame
        Customer summary.
    *args, **kwargs
        Passed to the method (e.g. the horizon ``t`` of ``expected_purchases``).
    ci_level : float, default 0.9
        Coverage of the interval, strictly between 0 and 1.
    n_draws : int, default 200
        Parameter draws, from 1 to 100,000.
    random_state : int or numpy.random.Generator, optional
        Seed for reproducibility.

    Returns
    -------
    pandas.DataFrame
        ``estimate`` (at the MLE) and ``lower``/``upper`` at ``ci_level``, indexed like ``data``.

    Examples
    --------
    >>> import clvmodels
    >>> summary = clvmodels.datasets.load_cdnow_summary()
    >>> model = clvmodels.BetaGeoModel().fit(summary)
    >>> band = prediction_interval(model, "probability_alive", summary.head(), random_state=0)
    >>> list(band.columns)
    ['estimate', 'lower 90%', 'upper 90%']
    """
    _checks.level(ci_level)  # before any work
    draws = parameter_draws(model, n_draws, random_state=random_state).to_numpy()
    models = [_with_params(model, d) for d in draws]

    def predict(k, rows):
        return np.asarray(getattr(models[k], method)(data.iloc[rows], *args, **kwargs), dtype=float)

    estimate = pd.Series(np.asarray(getattr(model, method)(data, *args, **kwargs), dtype=float), index=data.index)
    band = _interval(predict, n_draws, len(data), ci_level, data.index)
    return pd.concat([estimate.rename("estimate"), band], axis=1)


def clv_interval(purchase_model, spend_model, data: pd.DataFrame, *, ci_level: float = 0.9, n_draws: int = 200,
                 random_state=None, **clv_kwargs) -> pd.DataFrame:
    """Interval of discounted CLV carrying the uncertainty of both the purchase and spend models.

    The two models are fitted separately, so their parameter draws are independent; each draw
    pairs one purchase-model draw with one spend-model draw. ``clv_kwargs`` go to
    :func:`~clvmodels.customer_lifetime_value`. Returns ``estimate``, ``lower``, ``upper``.
    """
    _checks.level(ci_level)  # before any work
    _checks.draw_count(n_draws)
    _checks.clv_arguments(clv_kwargs.get("horizon_months", 12), clv_kwargs.get("discount_rate", 0.01),
                          clv_kwargs.get("margin", 1.0), clv_kwargs.get("month_length"))
    rng = np.random.default_rng(random_state)
    purchases = [_with_params(purchase_model, d) for d in parameter_draws(purchase_model, n_draws, random_state=rng).to_numpy()]
    spends = [_with_params(spend_model, d) for d in parameter_draws(spend_model, n_draws, random_state=rng).to_numpy()]

    def predict(k, rows):
        return customer_lifetime_value(purchases[k], spends[k], data.iloc[rows], **clv_kwargs).to_numpy()

    estimate = customer_lifetime_value(purchase_model, spend_model, data, **clv_kwargs)
    band = _interval(predict, n_draws, len(data), ci_level, data.index)
    return pd.concat([estimate.rename("estimate"), band], axis=1)
