"""Gamma-Gamma spend model (Fader & Hardie 2013; Colombo & Jiang 1999).

Each transaction value is ``Gamma(p, nu)`` around a customer-specific ``nu ~ Gamma(q, gamma)``.
The mean ``m`` of a customer's ``x`` repeat transactions is then ``Gamma(p x, nu x)``, and
integrating ``nu`` out gives the likelihood below.

References
----------
Fader, P. S., & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
http://www.brucehardie.com/notes/025/ . Equation numbers below refer to this note.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

PARAM_NAMES = ("p", "q", "gamma")
RATE_PARAMS = ()


def loglik(params, x, m):
    """Per-customer log-likelihood of the mean spend ``m`` over ``x > 0`` transactions, eq. (3).

    Parameters
    ----------
    params : sequence of float
        ``(p, q, gamma)``, all positive.
    x : array_like
        Number of repeat transactions (positive).
    m : array_like
        Mean value of those transactions (positive).
    """
    p, q, g = params
    px = p * x
    return (
        gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g)
        + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(g + m * x)
    )


def loglik_grad(params, x, m):
    """Analytic gradient of :func:`loglik` with respect to ``(p, q, gamma)``; shape ``(n, 3)``."""
    p, q, g = params
    x, m = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(m, dtype=float))
    px = p * x
    log_gmx = np.log(g + m * x)
    # log m + log x - log(g + m x) = -log1p(g / (m x)): no cancellation for big spenders
    d_p = x * (digamma(px + q) - digamma(px) - np.log1p(g / (m * x)))
    d_q = digamma(px + q) - digamma(q) + np.log(g) - log_gmx
    d_g = q / g - (px + q) / (g + m * x)
    return np.stack([d_p, d_q, d_g], axis=-1)


def expected_spend(params, x, m):
    """Expected mean transaction value given ``x`` transactions of mean ``m``, eq. (5).

    A weighted average of the population mean ``p gamma / (q - 1)`` and the customer's own mean;
    customers with ``x = 0`` get the population mean. Requires ``q > 1``.
    """
    p, q, g = params
    x = np.asarray(x, dtype=float)
    m = np.where(x > 0, m, 0.0)
    return p * (g + m * x) / (p * x + q - 1)


def simulate(params, x, *, rng):
    """Draw the mean spend of ``x`` transactions per customer (0 where ``x == 0``)."""
    p, q, g = params
    x = np.asarray(x, dtype=float)
    nu = rng.gamma(q, 1.0 / g, size=x.shape)
    shape = np.maximum(p * x, 1e-300)
    mean = rng.gamma(shape, 1.0 / (nu * np.maximum(x, 1)))
    return np.where(x > 0, mean, 0.0)


def make_objective(x, m, *, weights):
    """Fused ``sum(w * loglik)`` and its gradient for fitting, with data-only sums done once.

    The gamma-function terms depend on ``x`` alone (tabulated per distinct ``x``); the terms in
    ``log m`` and ``log x`` do not depend on the parameters at all. Each evaluation then costs
    one log and one reciprocal per row. Equals ``weights @ loglik`` and ``weights @ loglik_grad``.
    """
    x, m, w = (np.asarray(v, dtype=float) for v in (x, m, weights))
    codes, ux = pd.factorize(x)
    ux = np.asarray(ux, dtype=float)
    n_x = np.bincount(codes, weights=w, minlength=len(ux))
    n = w.sum()
    wx, mx = w * x, m * x
    s_px = wx @ (np.log(m) + np.log(x))  # coefficient of p from (px - 1) log m + px log x
    s_logm = w @ np.log(m)

    def total(params):
        p, q, g = params
        pu = p * ux
        log_gmx, inv_gmx = np.log(g + mx), 1.0 / (g + mx)
        wx_log, w_log = wx @ log_gmx, w @ log_gmx
        ll = (n_x @ (gammaln(pu + q) - gammaln(pu)) - n * gammaln(q) + n * q * np.log(g)
              + p * s_px - s_logm - p * wx_log - q * w_log)
        grad = np.array([
            n_x @ (ux * (digamma(pu + q) - digamma(pu))) + s_px - wx_log,
            n_x @ digamma(pu + q) - n * digamma(q) + n * np.log(g) - w_log,
            n * q / g - p * (wx @ inv_gmx) - q * (w @ inv_gmx),
        ])
        return ll, grad

    return total


def moment_start(x, m, weights):
    """Method-of-moments start for ``(p, q, gamma)``, or ``None`` where the moments do not fit.

    ``E[m^2 | x] = p E[nu^-2] (p + 1/x)``: a weighted regression of ``m^2`` on ``1/x`` gives ``p``;
    ``E[nu^-1] = gamma/(q-1)`` and ``E[nu^-2] = gamma^2/((q-1)(q-2))`` then give ``q`` and ``gamma``.
    """
    x, m, w = (np.asarray(v, dtype=float) for v in (x, m, weights))
    design = np.column_stack([np.ones_like(x), 1.0 / x]) * np.sqrt(w)[:, None]
    try:
        (c0, c1), *_ = np.linalg.lstsq(design, m**2 * np.sqrt(w), rcond=None)
    except np.linalg.LinAlgError:
        return None
    if not (c0 > 0 and c1 > 0):
        return None
    p = c0 / c1
    inv_nu = np.average(m, weights=w) / p
    ratio = (c1 / p) / inv_nu**2  # (q - 1) / (q - 2)
    if not ratio > 1:
        return None
    q = (2 * ratio - 1) / (ratio - 1)
    start = np.array([p, q, inv_nu * (q - 1)])
    return start if np.all(np.isfinite(start)) and np.all(start > 0) else None
