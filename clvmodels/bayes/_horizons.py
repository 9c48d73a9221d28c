"""Interpolation that makes long-horizon CLV cheap: few evaluations of the costly maths per draw.

A customer's discounted CLV needs, per posterior draw, the expected purchases of a customer known
to be alive, ``F(t; x, T) = E[X(t) | alive, x, T]``, at every month boundary ``t_k = k m`` of the
horizon and for every distinct ``(x, T)`` pair of the data: with 2,000 draws, 120 months and a few
thousand pairs that is billions of Gauss hypergeometric functions. Both ``t`` and ``T`` enter
analytically, so a handful of Chebyshev points per axis gives the same numbers to rounding.

Why it is exact to rounding
---------------------------
Under BG/NBD (and MBG/NBD, Pareto/NBD), given alive the purchase rate is gamma with rate
``A = alpha + T`` and the dropout acts through ``(1 + p t / A)^-(r + x)`` or ``((beta + T) /
(beta + T + t))^(s - 1)``; every singularity of ``F`` lies at ``t <= -A`` and at ``T <= -scale``
where ``scale`` is the smallest scale parameter (``alpha`` or ``beta``). In the variable
``u = log(shift + v)`` with ``shift`` at most the distance to those singularities, they all sit
on the lines ``Im u = +-pi``, so ``F`` is analytic in a strip of half-width ``pi`` around the real
interval of ``u``. Chebyshev interpolation of such a function converges geometrically, with rate
``rho = b + sqrt(1 + b^2)``, ``b = pi / h`` for an interval of half-length ``h``
(Trefethen, *Approximation Theory and Approximation Practice*, ch. 8); :func:`node_count` picks
the number of points from that bound. Measured against direct evaluation on CDNOW-like draws the
interpolated CLV agrees to about 1e-14 relative (tests use 1e-10).

The plan
--------
Along ``t`` the cumulative ``F`` is evaluated at the Chebyshev points instead of the ``H`` month
boundaries (a fixed ``H x n`` matrix maps them to the months). Along ``T``, for each frequency
with more distinct ``T`` than points, ``F`` is evaluated at the points and interpolated to the
pairs (a sparse ``pairs x points`` matrix); frequencies with fewer distinct ``T`` are evaluated
directly. The cost per draw is therefore ``points x n`` evaluations, independent of the number of
customers and of the horizon length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import BarycentricInterpolator

#: Target of the convergence bound in :func:`node_count` (the achieved error is far smaller).
TOLERANCE = 1e-10
#: Fraction of the analytic strip's half-width used in the bound (a safety margin).
STRIP = 0.9 * np.pi


def node_count(lo: float, hi: float, shift: float, *, tolerance: float = TOLERANCE) -> int:
    """Chebyshev points needed on ``[lo, hi]`` in ``u = log(shift + v)`` for ``tolerance``."""
    half = 0.5 * (np.log(shift + hi) - np.log(shift + lo))
    if half <= 0:
        return 1
    b = STRIP / half
    rho = b + np.sqrt(1.0 + b * b)
    return int(np.ceil(-np.log(tolerance) / np.log(rho))) + 2


def nodes(lo: float, hi: float, shift: float, n: int) -> np.ndarray:
    """``n`` Chebyshev points of the second kind on ``[lo, hi]``, equally spaced in angle in ``u``."""
    u_lo, u_hi = np.log(shift + lo), np.log(shift + hi)
    u = u_lo + (u_hi - u_lo) * 0.5 * (1.0 - np.cos(np.pi * np.arange(n) / (n - 1)))
    v = np.exp(u) - shift
    v[0], v[-1] = lo, hi  # exact end points (no rounding through log and exp)
    return v


def interpolation_matrix(points: np.ndarray, shift: float, targets: np.ndarray) -> np.ndarray:
    """``(len(targets), len(points))`` weights: values at ``targets`` from values at ``points``."""
    return BarycentricInterpolator(np.log(shift + points), np.eye(len(points)))(np.log(shift + targets))


@dataclass(frozen=True)
class TimeGrid:
    """Where to evaluate cumulative expected purchases for ``H`` month boundaries.

    ``cumulative_at_months = to_months @ cumulative_at_times`` (``to_months``: ``H x len(times)``).
    """

    times: np.ndarray
    to_months: np.ndarray

    @classmethod
    def for_months(cls, months: int, month_length: float, shift: float) -> TimeGrid:
        boundaries = np.arange(1, months + 1, dtype=float) * month_length
        n = node_count(0.0, boundaries[-1], shift)
        if n >= months:
            return cls(boundaries, np.eye(months))
        points = nodes(0.0, boundaries[-1], shift, n)
        # F(0) = 0, so the first point needs no evaluation
        return cls(points[1:], interpolation_matrix(points, shift, boundaries)[:, 1:])


@dataclass(frozen=True)
class PairGrid:
    """Points ``(frequency, T)`` to evaluate and, per block of pairs, how pairs read them.

    ``blocks`` holds ``(pair_slice, points_slice, weights)``: the pairs of one or more whole
    frequencies, the points they need and a dense ``pairs x points`` matrix of weights.
    """

    frequency: np.ndarray
    T: np.ndarray
    blocks: list

    @classmethod
    def for_pairs(cls, frequency: np.ndarray, T: np.ndarray, shift: float, max_points: int) -> PairGrid:
        """Pairs sorted by frequency then ``T`` (as :func:`~clvmodels.bayes._predict.distinct` sorts)."""
        starts = np.flatnonzero(np.r_[True, frequency[1:] != frequency[:-1]])
        ends = np.r_[starts[1:], len(frequency)]
        point_x, point_T, groups = [], [], []
        n_points = 0
        for start, end in zip(starts, ends):
            values = T[start:end]
            n = node_count(values[0], values[-1], shift)
            if end - start <= n:
                where, weights = values, np.eye(end - start)
            else:
                where = nodes(values[0], values[-1], shift, n)
                weights = interpolation_matrix(where, shift, values)
            point_x.append(np.full(len(where), frequency[start]))
            point_T.append(where)
            groups.append((start, end, n_points, n_points + len(where), weights))
            n_points += len(where)
        return cls(np.concatenate(point_x), np.concatenate(point_T), list(_merge(groups, max_points)))


def _merge(groups, max_points):
    """Consecutive frequency groups merged into blocks of at most ``max_points`` points."""
    current = []
    for group in groups:
        if current and group[3] - current[0][2] > max_points:
            yield _block(current)
            current = []
        current.append(group)
    if current:
        yield _block(current)


def _block(groups):
    p0, q0 = groups[0][0], groups[0][2]
    p1, q1 = groups[-1][1], groups[-1][3]
    weights = np.zeros((p1 - p0, q1 - q0))
    for start, end, first, last, w in groups:
        weights[start - p0:end - p0, first - q0:last - q0] = w
    return slice(p0, p1), slice(q0, q1), weights
