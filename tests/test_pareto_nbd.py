"""Pareto/NBD: published estimates, agreement with lifetimes and mpmath, numerics of heavy buyers
and long tenures, gradient, fused objective, DERT and properties."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifetimes import ParetoNBDFitter

import clvmodels
from clvmodels import ParetoNBDModel
from clvmodels.likelihoods import pareto_nbd

PUBLISHED = {"r": 0.553, "alpha": 10.58, "s": 0.606, "beta": 11.67}
PUBLISHED_LL = -9595.0
SEEDED = settings(derandomize=True, database=None, deadline=None, max_examples=60)


@pytest.fixture(scope="module")
def cdnow():
    return clvmodels.datasets.load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow):
    return ParetoNBDModel().fit(cdnow)


@pytest.fixture(scope="module")
def lifetimes_at_ours(fitted):
    """A lifetimes ``ParetoNBDFitter`` carrying our parameters, so only the formulas are compared."""
    ref = ParetoNBDFitter()
    ref.params_ = pd.Series(fitted.params_.to_dict())
    return ref


def _columns(data):
    return tuple(data[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))


# -- reference values ----------------------------------------------------------------------------

def test_cdnow_summary_reproduces_fader_hardie_lee_2005(fitted):
    """Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base
    analysis", JMR 42(4), 415-430: on the CDNOW 1/10 sample (2,357 customers, 39-week calibration,
    weeks) the Pareto/NBD MLE is r = 0.553, alpha = 10.58, s = 0.606, beta = 11.67 with
    LL = -9595.0 (lifetimes' test_params_out_is_close_to_Hardie_paper checks the same values,
    0.553, 10.578, 0.606, 11.669). Checked to the printed precision (half a unit in the last
    printed decimal)."""
    for name, value in PUBLISHED.items():
        decimals = len(repr(value).split(".")[1])
        assert abs(fitted.params_[name] - value) <= 0.5 * 10.0**-decimals, name
    assert abs(fitted.log_likelihood_ - PUBLISHED_LL) <= 0.05
    assert fitted.n_customers_ == 2357 and fitted.time_unit_ == "W"


def test_log_likelihood_matches_lifetimes(cdnow, fitted):
    """lifetimes 0.11.3 ``ParetoNBDFitter._conditional_log_likelihood`` (note eq. 18 with
    hyp2f1 in its printed form) customer by customer, at the published and at our parameters."""
    x, t_x, T = _columns(cdnow)
    for params in (np.array(list(PUBLISHED.values())), fitted.params_.to_numpy()):
        theirs = ParetoNBDFitter._conditional_log_likelihood(params, x, t_x, T)
        np.testing.assert_allclose(pareto_nbd.loglik(params, x, t_x, T), theirs, rtol=1e-11)
    assert pareto_nbd.loglik(fitted.params_.to_numpy(), x, t_x, T).sum() == pytest.approx(fitted.log_likelihood_,
                                                                                         rel=1e-13)


@pytest.mark.parametrize("unit", ["W", "D"])
def test_fitted_params_agree_with_lifetimes(unit, cdnow):
    """lifetimes 0.11.3 ``ParetoNBDFitter().fit`` finds the same maximum, 1e-4 relative, on the
    published weekly summary and on the same summary in days. Its Nelder-Mead stopping tolerance
    is tightened to 1e-8 (default 1e-4) so that it stops at the optimum, not near it."""
    factor = 7.0 if unit == "D" else 1.0
    data = cdnow.assign(recency=factor * cdnow["recency"], T=factor * cdnow["T"])
    ours = ParetoNBDModel().fit(data)
    theirs = ParetoNBDFitter().fit(data["frequency"], data["recency"], data["T"], tol=1e-8)
    np.testing.assert_allclose(ours.params_.to_numpy(), theirs.params_[list(ours.param_names)].to_numpy(),
                               rtol=1e-4)


# -- predictions against lifetimes, given the same parameters ------------------------------------

@pytest.mark.parametrize("t", [0.5, 1.0, 10.0, 39.0, 52.0, 104.0, 520.0])
def test_conditional_expected_purchases_agree_with_lifetimes(t, cdnow, fitted, lifetimes_at_ours):
    """lifetimes 0.11.3 ``conditional_expected_number_of_purchases_up_to_time`` (note eq. 41)
    at our parameters, every CDNOW customer, 1e-6 relative."""
    theirs = lifetimes_at_ours.conditional_expected_number_of_purchases_up_to_time(t, *_columns(cdnow))
    ours = fitted.expected_purchases(cdnow, t)
    assert ours.index.equals(cdnow.index)
    np.testing.assert_allclose(ours.to_numpy(), np.asarray(theirs), rtol=1e-6)


def test_probability_alive_and_new_customer_agree_with_lifetimes(cdnow, fitted, lifetimes_at_ours):
    """lifetimes 0.11.3 ``conditional_probability_alive`` (note eq. 37) and
    ``expected_number_of_purchases_up_to_time`` (eq. 27) at our parameters, 1e-6 relative."""
    theirs = lifetimes_at_ours.conditional_probability_alive(*_columns(cdnow))
    np.testing.assert_allclose(fitted.probability_alive(cdnow).to_numpy(), np.asarray(theirs), rtol=1e-6)
    t = np.array([0.1, 1.0, 13.0, 39.0, 78.0, 520.0])
    np.testing.assert_allclose(fitted.expected_purchases_new_customer(t),
                               lifetimes_at_ours.expected_number_of_purchases_up_to_time(t), rtol=1e-6)


def test_expected_purchases_grid_matches_single_horizons(cdnow, fitted):
    grid = fitted.expected_purchases_grid(cdnow, [1.0, 39.0, 78.0])
    for row, t in zip(grid, [1.0, 39.0, 78.0]):
        np.testing.assert_allclose(row, fitted.expected_purchases(cdnow, t).to_numpy(), rtol=1e-13)


# -- numerics against mpmath ---------------------------------------------------------------------

def _note_loglik_mpmath(params, x, t_x, T, dps=60):
    """Note eqs. (18)-(20) exactly as printed, in mpmath at ``dps`` digits (``None``: the current
    precision): the ``2F1(r+s+x, .; r+s+x+1; z) / (max(alpha, beta) + t)^(r+s+x)`` form."""
    with mpmath.workdps(dps or mpmath.mp.dps):
        r, alpha, s, beta = (mpmath.mpf(v) for v in params)
        x, t_x, T = (mpmath.mpf(v) for v in (x, t_x, T))
        k = r + s + x
        top, low, b2 = (alpha, beta, s + 1) if alpha >= beta else (beta, alpha, r + x)

        def part(t):
            return mpmath.hyp2f1(k, b2, k + 1, (top - low) / (top + t)) / (top + t) ** k

        a0 = part(t_x) - part(T)
        body = 1 / ((alpha + T) ** (r + x) * (beta + T) ** s) + s / k * a0
        return mpmath.loggamma(r + x) - mpmath.loggamma(r) + r * mpmath.log(alpha) + s * mpmath.log(beta) \
            + mpmath.log(body)


HEAVY_CASES = [  # (params, x, t_x, T): heavy buyers, ten years of days, both regimes, t_x = 0 / T
    ((0.553, 10.58, 0.606, 11.67), 1000, 3640.0, 3650.0),
    ((0.553, 10.58, 0.606, 11.67), 1000, 3650.0, 3650.0),
    ((0.553, 10.58, 0.606, 11.67), 1000, 20.0, 3650.0),
    ((0.553, 10.58, 0.606, 11.67), 0, 0.0, 3650.0),
    ((0.553, 10.58 * 7, 0.606, 11.67 * 7), 500, 1000.0, 3650.0),
    ((0.3, 80.0, 0.9, 0.5), 1000, 3649.9, 3650.0),      # alpha >> beta
    ((0.3, 80.0, 0.9, 0.5), 1000, 0.5, 3650.0),
    ((0.3, 80.0, 0.9, 0.5), 0, 0.0, 3650.0),
    ((2.0, 0.05, 1.5, 300.0), 1000, 1.0, 3650.0),      # alpha << beta, z near 1 at t_x
    ((2.0, 0.05, 1.5, 300.0), 200, 3000.0, 3650.0),
    ((0.2, 0.05, 0.3, 300.0), 0, 0.0, 3650.0),         # r + x < 1: the integrand rises first
    ((5.0, 3.0, 40.0, 3.0), 1000, 2000.0, 3650.0),     # alpha = beta
    ((0.05, 1e4, 0.02, 1e-3), 10, 1e-3, 3650.0),       # extreme rates
]


@pytest.mark.parametrize("params, x, t_x, T", HEAVY_CASES)
def test_heavy_buyers_and_long_tenure_match_mpmath(params, x, t_x, T):
    """Frequency up to 1000 and T up to 3650 (ten years of days), where the printed 2F1 and the
    powers (alpha+T)^(r+s+x) over- and underflow in double precision: ours is finite and within
    1e-12 (relative to max(1, |log L|)) of the note's formula in 60-digit mpmath."""
    ours = pareto_nbd.loglik(params, x, t_x, T)
    expected = float(_note_loglik_mpmath(params, x, t_x, T))
    assert np.isfinite(ours)
    assert abs(ours - expected) <= 1e-12 * max(1.0, abs(expected))


@pytest.mark.parametrize("params, x, t_x, T", HEAVY_CASES[::2])
def test_gradient_matches_mpmath_derivative(params, x, t_x, T):
    """The analytic gradient against mpmath's numerical derivative of the note's formula (40
    digits), 1e-9 relative (1e-9 absolute for components near 0)."""
    ours = pareto_nbd.loglik_grad(params, x, t_x, T)
    with mpmath.workdps(40):
        point = [mpmath.mpf(v) for v in params]
        expected = np.array([float(mpmath.diff(
            lambda v: _note_loglik_mpmath(point[:i] + [v] + point[i + 1:], x, t_x, T, dps=None), point[i]))
            for i in range(4)])
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("s", [0.3, 1.0, 1 + 1e-9, 2.5])
def test_expected_purchases_match_mpmath_and_are_continuous_at_s_equal_one(s, cdnow):
    """Note eq. (41) has (s-1) in a denominator; the ``exprel`` form is continuous there.
    Reference: eq. (41) with P(alive) from eqs. (18)-(20) in mpmath (s = 1 + 1e-30 for s = 1)."""
    params = (0.553, 10.58, s, 11.67)
    rows = [(0, 0.0, 39.0), (2, 30.43, 38.86), (50, 38.0, 39.0), (1000, 3000.0, 3650.0)]
    for x, t_x, T in rows:
        for t in (1.0, 39.0, 520.0):
            with mpmath.workdps(50):
                r, a, ss, b = (mpmath.mpf(v) for v in params)
                if s == 1.0:
                    ss = 1 + mpmath.mpf(10) ** -30
                alive = mpmath.exp(mpmath.loggamma(r + x) - mpmath.loggamma(r) + r * mpmath.log(a)
                                   + ss * mpmath.log(b) - (r + x) * mpmath.log(a + T) - ss * mpmath.log(b + T)
                                   - _note_loglik_mpmath((r, a, ss, b), x, t_x, T))
                expected = float((r + x) * (b + T) / ((a + T) * (ss - 1))
                                 * (1 - ((b + T) / (b + T + t)) ** (ss - 1)) * alive)
            assert pareto_nbd.expected_purchases(params, t, x, t_x, T) == pytest.approx(expected, rel=1e-11)


# -- gradient and fused objective ----------------------------------------------------------------

def _five_point_derivative(f, params, k, rel_step=1e-3):
    h = rel_step * params[k]

    def at(d):
        shifted = params.copy()
        shifted[k] += d
        return f(shifted)

    return (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h), f(params), h


positive = st.floats(min_value=np.log(0.02), max_value=np.log(50.0)).map(np.exp)
params_st = st.tuples(positive, positive, positive, positive)


@st.composite
def histories(draw, max_size=6):
    n = draw(st.integers(1, max_size))
    x = np.array(draw(st.lists(st.integers(0, 300), min_size=n, max_size=n)), dtype=float)
    T = np.array(draw(st.lists(st.floats(0.5, 3650.0), min_size=n, max_size=n)))
    u = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    return x, np.where(x > 0, u * T, 0.0), T


@SEEDED
@given(params=params_st, data=histories())
def test_gradient_equals_central_differences(params, data):
    """``loglik_grad`` against central differences of ``loglik`` (five-point stencil), both
    regimes (alpha above and below beta), up to 300 purchases over ten years."""
    x, t_x, T = data
    params = np.array(params)
    analytic = pareto_nbd.loglik_grad(params, x, t_x, T)
    for k in range(4):
        numeric, f, h = _five_point_derivative(lambda q: pareto_nbd.loglik(q, x, t_x, T), params, k)
        tol = 1e-7 * np.abs(analytic[:, k]) + 1e-12 * (1 + np.abs(f)) / h
        assert np.all(np.abs(numeric - analytic[:, k]) <= tol), k


@pytest.mark.parametrize("params", [(0.553, 10.58, 0.606, 11.67), (2.0, 0.5, 3.0, 40.0), (0.05, 40.0, 0.2, 0.9),
                                    (1.0, 1.0, 1.0, 1.0)])
def test_fused_objective_equals_weighted_row_sums(params):
    """``make_objective`` (per distinct (x, tau) pair, bincount sums) equals ``weights @ loglik``
    and ``weights @ loglik_grad`` on simulated data with ties and t_x = T rows."""
    rng = np.random.default_rng(11)
    draws = pareto_nbd.simulate((0.553, 10.58, 0.606, 11.67), np.round(rng.uniform(13, 78, 4000)), rng=rng)
    x, t_x, T = draws["x"], np.round(draws["t_x"], 1), draws["T"]
    t_x[:50] = np.where(x[:50] > 0, T[:50], 0.0)
    weights = rng.integers(1, 5, x.size).astype(float)
    ll, grad = pareto_nbd.make_objective(x, t_x, T, weights=weights)(np.array(params))
    assert ll == pytest.approx(weights @ pareto_nbd.loglik(params, x, t_x, T), rel=1e-12)
    np.testing.assert_allclose(grad, weights @ pareto_nbd.loglik_grad(params, x, t_x, T), rtol=1e-10, atol=1e-8)


# -- DERT ----------------------------------------------------------------------------------------

def _dert_by_integration(params, delta, x, t_x, T):
    """``∫_0^∞ e^(-δt) dE[X(T, T+t)]`` in mpmath: eq. (41) written in mpmath, differentiated in t
    numerically and integrated against the discount factor."""
    with mpmath.workdps(30):
        r, a, s, b = (mpmath.mpf(v) for v in params)
        alive = mpmath.exp(mpmath.loggamma(r + x) - mpmath.loggamma(r) + r * mpmath.log(a) + s * mpmath.log(b)
                           - (r + x) * mpmath.log(a + T) - s * mpmath.log(b + T)
                           - _note_loglik_mpmath(params, x, t_x, T, dps=30))

        def expected(t):
            return (r + x) * (b + T) / ((a + T) * (s - 1)) * (1 - ((b + T) / (b + T + t)) ** (s - 1)) * alive

        scale = 1 / mpmath.mpf(delta)
        return float(mpmath.quad(lambda t: mpmath.exp(-delta * t) * mpmath.diff(expected, t),
                                 [0, scale, 10 * scale, 100 * scale, mpmath.inf]))


@pytest.mark.parametrize("params, delta, x, t_x, T", [
    ((0.553, 10.58, 0.606, 11.67), math.log(1.15) / 52, 2, 30.43, 38.86),  # FHL 2005: 15 % a year, weeks
    ((0.553, 10.58, 0.606, 11.67), math.log(1.15) / 52, 0, 0.0, 39.0),
    ((0.553, 10.58, 0.606, 11.67), 0.05, 20, 38.0, 39.0),
    ((0.553, 10.58 * 7, 2.5, 11.67 * 7), math.log(1.1) / 365, 300, 3600.0, 3650.0),
    ((1.2, 3.0, 30.0, 5.0), 0.5, 5, 10.0, 20.0),  # s = 30: SciPy's hyperu returns NaN here
])
def test_dert_equals_discounted_integral_of_expected_purchases(params, delta, x, t_x, T):
    """DERT (FHL 2005 JMR eq. 2) against numerical integration of the discounted purchase rate
    in mpmath, and against eq. 2 itself with mpmath's hyperu; 1e-9 relative."""
    ours = pareto_nbd.discounted_expected_residual_transactions(params, delta, x, t_x, T)
    assert ours == pytest.approx(_dert_by_integration(params, delta, x, t_x, T), rel=1e-9)
    with mpmath.workdps(30):
        r, a, s, b = (mpmath.mpf(v) for v in params)
        eq2 = mpmath.exp(r * mpmath.log(a) + s * mpmath.log(b) + (s - 1) * mpmath.log(delta)
                         + mpmath.loggamma(r + x + 1) + mpmath.log(mpmath.hyperu(s, s, delta * (b + T)))
                         - mpmath.loggamma(r) - (r + x + 1) * mpmath.log(a + T)
                         - _note_loglik_mpmath(params, x, t_x, T, dps=30))
    assert ours == pytest.approx(float(eq2), rel=1e-9)


def test_dert_on_the_model(cdnow, fitted):
    """The model method: a Series named ``dert``; it shrinks as the discount rate grows, and an
    annual rate must be converted (a non-positive rate is refused with that advice)."""
    dert = fitted.discounted_expected_residual_transactions(cdnow, math.log(1.15) / 52)
    assert dert.name == "dert" and dert.index.equals(cdnow.index) and (dert > 0).all()
    steeper = fitted.discounted_expected_residual_transactions(cdnow, math.log(1.30) / 52)
    assert (steeper < dert).all()
    for bad in (0.0, -0.01, np.nan):
        with pytest.raises(ValueError, match="log\\(1 \\+ d\\) / 52"):
            fitted.discounted_expected_residual_transactions(cdnow, bad)


# -- properties and simulation -------------------------------------------------------------------

@SEEDED
@given(params=params_st, data=histories())
def test_probability_alive_is_a_probability(params, data):
    p = pareto_nbd.probability_alive(params, *data)
    assert np.all((p >= 0) & (p <= 1))


@SEEDED
@given(params=params_st, data=histories(),
       t=st.lists(st.floats(0.0, 1000.0), min_size=2, max_size=6).map(sorted))
def test_expected_purchases_non_decreasing_in_t(params, data, t):
    x, t_x, T = data
    grid = pareto_nbd.expected_purchases(params, np.asarray(t)[:, None], x, t_x, T)
    assert np.all(np.isfinite(grid)) and np.all(grid >= 0)
    scale = np.maximum(np.abs(grid).max(axis=0), 1e-300)
    assert np.all(np.diff(grid, axis=0) >= -1e-12 * scale)


@pytest.mark.parametrize("params", [(0.553, 10.58, 0.606, 11.67), (2.0, 4.0, 3.0, 20.0)])
def test_simulation_matches_expected_purchases(params):
    """Simulated customers observed for T = 52 make on average E[X(52)] (note eq. 27) repeat
    purchases: within 4 standard errors, 200,000 customers, seeded."""
    draws = pareto_nbd.simulate(params, np.full(200_000, 52.0), rng=np.random.default_rng(7))
    x = draws["x"]
    expected = pareto_nbd.expected_purchases_new_customer(params, 52.0)
    assert abs(x.mean() - expected) < 4 * x.std() / math.sqrt(x.size)
    assert np.all((draws["t_x"] <= 52.0) & ((draws["t_x"] > 0) == (x > 0)))


def test_model_predictions_for_heavy_buyers_are_finite():
    """A customer with 1000 purchases over ten years of days, the last 10 days ago: P(alive) as
    in mpmath (note eqs. 18-20, 60 digits; about 0.992), and over the next day the expected
    purchases are about the posterior mean rate (r+x)/(alpha+T); DERT is finite."""
    params = (0.553, 10.58 * 7, 0.606, 11.67 * 7)
    model = ParetoNBDModel.from_params(dict(zip(ParetoNBDModel.param_names, params)), time_unit="D")
    data = pd.DataFrame({"frequency": [1000.0], "recency": [3640.0], "T": [3650.0]})
    with mpmath.workdps(60):
        r, a, s, b = (mpmath.mpf(v) for v in params)
        alive = mpmath.exp(mpmath.loggamma(r + 1000) - mpmath.loggamma(r) + r * mpmath.log(a) + s * mpmath.log(b)
                           - (r + 1000) * mpmath.log(a + 3650) - s * mpmath.log(b + 3650)
                           - _note_loglik_mpmath(params, 1000, 3640.0, 3650.0))
    p_alive = model.probability_alive(data).iloc[0]
    assert p_alive == pytest.approx(float(alive), rel=1e-12) and 0.98 < p_alive < 1
    rate = (1000 + 0.553) / (10.58 * 7 + 3650)
    assert model.expected_purchases(data, 1.0).iloc[0] == pytest.approx(rate * p_alive, rel=1e-3)
    assert np.isfinite(model.discounted_expected_residual_transactions(data, math.log(1.15) / 365).iloc[0])
