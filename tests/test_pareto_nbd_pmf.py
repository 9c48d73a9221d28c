"""P(X(t) = n) of Pareto/NBD: lifetimes and mpmath as oracles, normalisation, mean, simulation.

References
----------
Fader, P. S. and Hardie, B. G. S. Deriving an expression for P(X(t) = x) under the
Pareto/NBD model. brucehardie.com/notes/013: the closed form ``NBD(x; t) (β/(β+t))^s +
α^r β^s B(r+x, s+1)/(Γ(r) Γ(s)) [B_1 - Σ_{j<=x} B_{2,j}]`` with Gauss hypergeometric ``B`` terms,
evaluated here in mpmath at a precision high enough to absorb its cancellation.

lifetimes 0.11.3 has no unconditional P(X(t) = n) for Pareto/NBD; its
``ParetoNBDFitter.conditional_probability_of_n_purchases_up_to_time(n, t, 0, 0, 0)``
(Fader & Hardie, note 028, eq. 16) with an empty history (no purchases in a window of length 0) is
the same quantity, computed from the note-013 form with SciPy's ``hyp2f1`` in double precision.
"""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pandas as pd
import pytest
from lifetimes import ParetoNBDFitter

import clvmodels
from clvmodels import ParetoNBDModel
from clvmodels.diagnostics import frequency_distribution
from clvmodels.likelihoods import pareto_nbd

CDNOW = (0.553, 10.578, 0.606, 11.669)  # Fader, Hardie & Lee (2005), CDNOW, weeks
CDNOW_DAYS = (0.553, 10.578 * 7, 0.606, 11.669 * 7)  # the same customers, time in days (alpha < beta)


@pytest.fixture(scope="module")
def fitted():
    return ParetoNBDModel().fit(clvmodels.datasets.load_cdnow_summary())


def _lifetimes_pmf(params, t, n):
    ref = ParetoNBDFitter()
    ref.params_ = pd.Series(dict(zip(("r", "alpha", "s", "beta"), params)))
    with warnings.catch_warnings():  # log(0) for the empty history's A_0, handled by lifetimes
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.array([[ref.conditional_probability_of_n_purchases_up_to_time(int(k), tt, 0, 0, 0) for tt in t]
                         for k in n])


@pytest.mark.parametrize("params", [CDNOW, (0.553, 1.0, 0.606, 80.0), (2.5, 30.0, 1.3, 4.0), CDNOW_DAYS])
def test_pmf_matches_lifetimes(params):
    """Agreement with lifetimes to 1e-6 absolute (in fact ~1e-15) on a grid of t and n, for
    alpha >= beta and alpha < beta; relative agreement where P is not tiny. Where P is tiny
    (t = 0.1, n >= 10) lifetimes' difference of hypergeometric terms cancels and it is off in
    relative terms (absolute error ~1e-16), so that is not compared."""
    t = np.array([0.1, 1.0, 10.0, 38.86, 78.0, 200.0])
    n = np.arange(0, 16)
    ours = pareto_nbd.probability_of_purchases(params, t[None, :], n[:, None])
    theirs = _lifetimes_pmf(params, t, n)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-14)
    big = ours > 1e-6
    np.testing.assert_allclose(ours[big], theirs[big], rtol=1e-8)


def _note_013(params, t, x, dps):
    """P(X(t) = x) from the closed form of note 013 in mpmath at ``dps`` digits."""
    with mpmath.workdps(dps):
        r, a, s, b = (mpmath.mpf(v) for v in params)
        t = mpmath.mpf(t)
        alive = (mpmath.gamma(r + x) / (mpmath.gamma(r) * mpmath.factorial(x)) * (a / (a + t)) ** r
                 * (t / (a + t)) ** x * (b / (b + t)) ** s)
        big = max(a, b)
        p = s + 1 if a >= b else r + x  # the hypergeometric's second argument depends on alpha >= beta
        c = r + s + x + 1
        b1 = mpmath.gamma(r + s) * mpmath.hyp2f1(r + s, p, c, abs(a - b) / big) / big ** (r + s)
        b2 = mpmath.fsum(mpmath.gamma(r + s + j) * t ** j / mpmath.factorial(j)
                         * mpmath.hyp2f1(r + s + j, p, c, abs(a - b) / (big + t)) / (big + t) ** (r + s + j)
                         for j in range(x + 1))
        dead = a ** r * b ** s * mpmath.beta(r + x, s + 1) / (mpmath.gamma(r) * mpmath.gamma(s)) * (b1 - b2)
        return +(alive + dead)


@pytest.mark.parametrize("params", [
    pytest.param((0.553, 10.578, 0.606, 2.0), id="alpha>beta"),
    pytest.param((2.5, 300.0, 1.3, 40.0), id="alpha>>beta,days"),
    pytest.param((0.553, 1.0, 0.606, 80.0), id="alpha<<beta"),
    pytest.param(CDNOW_DAYS, id="alpha<beta,cdnow-days"),
    pytest.param((0.553, 10.578, 0.606, 10.578), id="alpha=beta"),
])
def test_pmf_matches_note_013_in_mpmath(params):
    """The note's closed form at high precision: ``B_1 - Σ B_2`` cancels by about as many digits
    as P is small, so it is evaluated at ``40 + digits`` and again 20 digits higher (the two must
    agree). Covers short and long horizons (up to 10 years in days) and up to 300 purchases;
    probabilities down to 1e-18 agree to 1e-12 relative."""
    for t, x in [(0.5, 0), (0.5, 3), (39.0, 1), (39.0, 20), (365.0, 50), (1000.0, 120), (3650.0, 300)]:
        ours = float(pareto_nbd.probability_of_purchases(params, t, x))
        digits = 40 + math.ceil(-math.log10(ours))
        ref, check = _note_013(params, t, x, digits), _note_013(params, t, x, digits + 20)
        assert abs(ref / check - 1) < 1e-25
        assert ours == pytest.approx(float(check), rel=1e-12), (t, x)


def test_pmf_sums_to_one_and_has_the_model_mean(fitted):
    """At the fitted CDNOW parameters (weeks): sum_n P(X(t) = n) = 1 and sum_n n P(X(t) = n) =
    E[X(t)] (note 009, eq. 27; expected_purchases_new_customer), from a day to ten years. The
    sums run to n = 6000, beyond which the tail is below 1e-12 at these horizons."""
    params = fitted.params_.to_numpy()
    t = np.array([0.0, 1 / 7, 1.0, 39.0, 78.0, 520.0])
    n = np.arange(0, 6000, dtype=float)[:, None]
    pmf = fitted.probability_of_purchases(t, n)
    assert np.all(pmf >= 0)
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose((n * pmf).sum(axis=0), pareto_nbd.expected_purchases_new_customer(params, t),
                               rtol=1e-9, atol=1e-13)


def test_pmf_agrees_with_simulation():
    """The model's own simulation (seeded, 200,000 customers observed for 39 weeks): the share of
    customers with n repeat purchases is within 4.5 binomial standard errors of P(X(39) = n)."""
    rng = np.random.default_rng(20260123)
    m, t = 200_000, 39.0
    x = pareto_nbd.simulate(CDNOW, np.full(m, t), rng=rng)["x"]
    n = np.arange(0, 12)
    pmf = pareto_nbd.probability_of_purchases(CDNOW, t, n)
    share = np.bincount(x.astype(int), minlength=n.size)[: n.size] / m
    assert np.all(np.abs(share - pmf) <= 4.5 * np.sqrt(pmf * (1 - pmf) / m))


def test_pmf_edge_cases_and_time_rescaling():
    """Nothing happens in no time: P(X(0) = n) = [n = 0]. Rescaling time rescales alpha and beta
    only: P(X(t) = n | r, α, s, β) = P(X(7t) = n | r, 7α, s, 7β) (weeks to days). Nobody alive
    forever: for long horizons P(X(t) = 0) tends to the chance of dying before a purchase,
    ``E[μ/(λ+μ)]``, which for alpha = beta is ``s/(r+s)``."""
    n = np.arange(4)
    np.testing.assert_array_equal(pareto_nbd.probability_of_purchases(CDNOW, 0.0, n), [1, 0, 0, 0])
    t = np.array([0.5, 39.0, 300.0])
    np.testing.assert_allclose(pareto_nbd.probability_of_purchases(CDNOW_DAYS, 7 * t, n[:, None]),
                               pareto_nbd.probability_of_purchases(CDNOW, t, n[:, None]), rtol=1e-12)
    r, _, s, _ = params = (0.7, 5.0, 1.4, 5.0)
    assert pareto_nbd.probability_of_purchases(params, 1e12, 0) == pytest.approx(s / (r + s), rel=1e-6)


def test_model_method_broadcasts_and_feeds_the_frequency_table(fitted):
    grid = fitted.probability_of_purchases(np.array([1.0, 39.0]), np.arange(3)[:, None])
    assert grid.shape == (3, 2)
    np.testing.assert_array_equal(grid, pareto_nbd.probability_of_purchases(
        fitted.params_.to_numpy(), np.array([1.0, 39.0]), np.arange(3)[:, None]))
    with pytest.raises(ValueError, match="whole numbers"):
        fitted.probability_of_purchases(1.0, 2.5)
    summary = clvmodels.datasets.load_cdnow_summary()
    table = frequency_distribution(fitted, summary)
    assert table["actual"].sum() == len(summary)
    assert table["expected"].sum() == pytest.approx(len(summary), rel=1e-12)
    assert (table["expected"] > 0).all() and np.isfinite(table.attrs["chi_square"])
