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
    d_p = x * (digamma(px + q) - digamma(px) + np.log(m) + np.log(x) - log_gmx)
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
