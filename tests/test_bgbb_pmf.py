"""BG/BB P(X(n) = x), Fader, Hardie & Shang (2010) eq. (7): hand values, an mpmath integration of
the story behind the model, enumeration of the likelihood over every history, the mean of eq. (8),
lifetimes 0.11.3 and a simulation.

References
----------
Fader, P. S., Hardie, B. G. S. and Shang, J. (2010). Customer-base analysis in a discrete-time
noncontractual setting. Marketing Science 29(6), 1086-1108; donations MLE alpha = 1.204,
beta = 0.750, gamma = 0.657, delta = 2.783.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoBetaBinomFitter
from scipy.special import comb

from clvmodels.likelihoods import bgbb

PUBLISHED = (1.204, 0.750, 0.657, 2.783)


def _mp_pmf(params, n, x):
    """P(X(n) = x) from the model's story, by mpmath quadrature over p and theta (no beta
    functions): a customer who drops out at the start of opportunity D <= n had D - 1
    opportunities alive, one who never drops out had n; given m opportunities alive, x is
    Binomial(m, p). E over p ~ Beta(alpha, beta) and theta ~ Beta(gamma, delta) factorises."""
    alpha, beta, gamma, delta = (mpmath.mpf(v) for v in params)

    def integral(a, b, f):
        # int_0^1 u^(a-1) (1-u)^(b-1) f(u) du without the endpoint singularities: u = v^(1/a)
        # on [0, 1/2] and 1 - u = w^(1/b) on [1/2, 1] make both integrands smooth.
        half = mpmath.mpf(1) / 2
        left = mpmath.quad(lambda v: (1 - v ** (1 / a)) ** (b - 1) * f(v ** (1 / a)), [0, half**a]) / a
        right = mpmath.quad(lambda w: (1 - w ** (1 / b)) ** (a - 1) * f(1 - w ** (1 / b)), [0, half**b]) / b
        return left + right

    def expect(a, b, f):
        return integral(a, b, f) / integral(a, b, lambda u: 1)

    def binomial(m):
        return expect(alpha, beta, lambda p: mpmath.binomial(m, x) * p**x * (1 - p) ** (m - x))

    total = binomial(n) * expect(gamma, delta, lambda t: (1 - t) ** n)
    for d in range(1, n + 1):
        if d - 1 >= x:
            total += binomial(d - 1) * expect(gamma, delta, lambda t, d=d: t * (1 - t) ** (d - 1))
    return float(total)


def test_hand_values_with_uniform_mixing():
    """alpha = beta = gamma = delta = 1 (p, theta uniform): E[p^k] = 1/(k+1), E[(1-theta)^k] =
    1/(k+1), E[theta (1-theta)] = 1/6, E[p (1-p)] = 1/6. One opportunity: P(X=1) = E[p] E[1-theta]
    = 1/4. Two: P(X=2) = 1/3 * 1/3 = 4/36, P(X=1) = 2 * 1/6 * 1/3 + 1/2 * 1/6 = 7/36 (alive
    through both, or through one and gone at the second), P(X=0) = 25/36."""
    np.testing.assert_allclose(bgbb.probability_of_purchases((1, 1, 1, 1), 1, [0, 1]), [3 / 4, 1 / 4], rtol=1e-14)
    np.testing.assert_allclose(bgbb.probability_of_purchases((1, 1, 1, 1), 2, [0, 1, 2]),
                               [25 / 36, 7 / 36, 4 / 36], rtol=1e-14)
    assert bgbb.probability_of_purchases((1, 1, 1, 1), 0, 0) == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("params", [PUBLISHED, (0.3, 2.0, 1.0, 0.5), (4.0, 1.5, 3.0, 10.0)])
@pytest.mark.parametrize("n,x", [(1, 0), (3, 1), (6, 0), (6, 2), (6, 6)])
def test_equals_mpmath_quadrature_of_the_story(params, n, x):
    """Independent route: numerical integration of the mixture (see :func:`_mp_pmf`), also at
    gamma = 1 and for small and large parameters."""
    assert bgbb.probability_of_purchases(params, n, x) == pytest.approx(_mp_pmf(params, n, x), rel=1e-9)


@pytest.mark.parametrize("n", [0, 1, 2, 6, 11, 25])
def test_equals_the_likelihood_summed_over_every_history(n):
    """Enumeration: P(X(n) = x) is the sum of L(x, t_x, n) (eq. 5) over t_x, times the number of
    purchase strings with x purchases the last at t_x (C(t_x - 1, x - 1)); the pmf sums to 1 and
    its mean is E[X(n)] of eq. (8)."""
    rows = [(0, 0)] + [(x, t) for t in range(1, n + 1) for x in range(1, t + 1)]
    x, t_x = (np.array(v, dtype=float) for v in zip(*rows))
    strings = np.where(x > 0, comb(t_x - 1, x - 1), 1.0)
    by_x = np.bincount(x.astype(int), weights=strings * np.exp(bgbb.loglik(PUBLISHED, x, t_x, n)), minlength=n + 1)
    pmf = bgbb.probability_of_purchases(PUBLISHED, n, np.arange(n + 1))
    np.testing.assert_allclose(pmf, by_x, rtol=1e-11, atol=1e-16)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    assert pmf @ np.arange(n + 1) == pytest.approx(float(bgbb.expected_purchases_new_customer(PUBLISHED, n)),
                                                   rel=1e-11, abs=1e-15)


def test_broadcasts_and_is_zero_beyond_n():
    """A column of n against a row of x gives the table; x > n is impossible (0)."""
    table = bgbb.probability_of_purchases(PUBLISHED, np.array([[0], [2], [6]]), np.arange(8))
    assert table.shape == (3, 8)
    assert np.all(table[0, 1:] == 0) and np.all(table[1, 3:] == 0) and table[2, 7] == 0
    np.testing.assert_allclose(table.sum(axis=1), 1.0, rtol=1e-13)
    with pytest.raises(ValueError, match="whole numbers"):
        bgbb.probability_of_purchases(PUBLISHED, 2.5, 1)
    with pytest.raises(ValueError, match="whole numbers"):
        bgbb.probability_of_purchases(PUBLISHED, 3, -1)


def test_equals_lifetimes_expected_counts_in_first_n_periods():
    """lifetimes 0.11.3 ``BetaGeoBetaBinomFitter.expected_number_of_transactions_in_first_n_periods``
    (its own code of eq. 7) times 1 customer per frequency 0..6."""
    fitter = BetaGeoBetaBinomFitter()
    fitter.params_ = pd.Series(dict(zip(("alpha", "beta", "gamma", "delta"), PUBLISHED)))
    fitter.data = pd.DataFrame({"frequency": np.arange(7), "weights": np.ones(7)})
    theirs = fitter.expected_number_of_transactions_in_first_n_periods(6)["model"].to_numpy() / 7
    np.testing.assert_allclose(bgbb.probability_of_purchases(PUBLISHED, 6, np.arange(7)), theirs, rtol=1e-12)


def test_matches_a_simulation():
    """200,000 customers simulated by ``bgbb.simulate`` (seeded) for 6 opportunities: every
    share of customers with x repeat transactions within 4 binomial standard errors of the pmf."""
    draws = bgbb.simulate(PUBLISHED, 200_000, 6, rng=np.random.default_rng(7))
    observed = np.bincount(draws["x"].astype(int), minlength=7) / 200_000
    pmf = bgbb.probability_of_purchases(PUBLISHED, 6, np.arange(7))
    assert np.all(np.abs(observed - pmf) <= 4 * np.sqrt(pmf * (1 - pmf) / 200_000))
