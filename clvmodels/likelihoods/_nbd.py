"""The NBD count of purchases in ``(0, t]`` (Poisson purchasing at a gamma-distributed rate).

Shared by the models whose purchase process is Poisson with ``lambda ~ Gamma(r, alpha)`` while the
customer is alive (BG/NBD, MBG/NBD): their purchase-count distributions mix the NBD probability
of ``n`` purchases with the NBD probability of *at least* ``n``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc, gammaln, xlogy


def nbd_log_pmf(r, alpha, t, n):
    """``log P(N(t) = n)`` for the NBD: ``Γ(r+n)/(Γ(r) n!) (α/(α+t))^r (t/(α+t))^n``.

    ``t`` and ``n`` broadcast; ``t = 0`` gives ``log 1`` for ``n = 0`` and ``-inf`` otherwise.
    """
    t = np.asarray(t, dtype=float)
    n = np.asarray(n, dtype=float)
    counts = xlogy(n, t / (alpha + t))  # n log(t/(α+t)), with 0 log 0 = 0
    return gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * (np.log(alpha) - np.log(alpha + t)) + counts


def nbd_tail(r, alpha, t, n):
    """``P(N(t) >= n)`` for the NBD, as the regularised incomplete beta ``I_{t/(α+t)}(n, r)``.

    This is ``1 - (α/(α+t))^r Σ_{j<n} Γ(r+j)/(Γ(r) j!) (t/(α+t))^j`` without the cancellation of
    the subtraction; 1 for ``n = 0``.
    """
    t = np.asarray(t, dtype=float)
    n = np.asarray(n, dtype=float)
    z = t / (alpha + t)
    return np.where(n > 0, betainc(np.maximum(n, 1.0), r, z), 1.0)
