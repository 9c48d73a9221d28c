"""The fused fitting objectives equal the per-row likelihoods they stand in for."""

import numpy as np
import pytest

from clvmodels.likelihoods import bgnbd, gamma_gamma, mbgnbd


def _bgnbd_data(rng, n=3000):
    draws = bgnbd.simulate((0.243, 4.414, 0.793, 2.426), rng.uniform(13, 78, n), rng=rng)
    return (draws["x"], draws["t_x"], draws["T"])


def _gg_data(rng, n=3000):
    x = rng.poisson(2.0, n).astype(float) + 1
    return (x, gamma_gamma.simulate((6.25, 3.74, 15.44), x, rng=rng))


@pytest.mark.parametrize(("maths", "make_data", "points"), [
    (bgnbd, _bgnbd_data, [(0.243, 4.414, 0.793, 2.426), (2.0, 0.5, 3.0, 0.7), (0.05, 40.0, 0.2, 9.0)]),
    (mbgnbd, _bgnbd_data, [(0.525, 6.183, 0.891, 1.614), (2.0, 0.5, 3.0, 0.7), (0.05, 40.0, 0.2, 9.0),
                           (40.0, 0.02, 0.01, 80.0)]),
    (gamma_gamma, _gg_data, [(6.25, 3.74, 15.44), (0.5, 1.5, 2.0), (30.0, 12.0, 300.0)]),
])
def test_fused_objective_equals_weighted_row_sums(maths, make_data, points):
    rng = np.random.default_rng(11)
    data = make_data(rng)
    weights = rng.integers(1, 5, len(data[0])).astype(float)
    total = maths.make_objective(*data, weights=weights)
    for params in points:
        ll, grad = total(np.array(params))
        assert ll == pytest.approx(weights @ maths.loglik(params, *data), rel=1e-12)
        np.testing.assert_allclose(grad, weights @ maths.loglik_grad(params, *data), rtol=1e-9, atol=1e-9)


def test_moment_start_is_close_to_the_truth_and_refuses_bad_moments():
    """On simulated data the moment start lands near the true parameters (helping BFGS), and on
    data whose moments do not fit the model it declines (the caller then uses a fixed start)."""
    rng = np.random.default_rng(5)
    x = rng.poisson(3.0, 200_000).astype(float) + 1
    m = gamma_gamma.simulate((6.25, 3.74, 15.44), x, rng=rng)
    start = gamma_gamma.moment_start(x, m, np.ones_like(x))
    np.testing.assert_allclose(start, (6.25, 3.74, 15.44), rtol=0.2)
    assert gamma_gamma.moment_start(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]), np.ones(3)) is None


def _weighted_reference(params, data, weights):
    return weights @ bgnbd.loglik(params, *data), weights @ bgnbd.loglik_grad(params, *data)


@pytest.mark.parametrize("params", [(0.243, 4.414, 0.793, 2.426), (2.0, 0.5, 3.0, 0.7), (0.05, 40.0, 0.2, 9.0),
                                    (40.0, 0.02, 0.01, 80.0)])
def test_bgnbd_objective_on_day_rounded_histories_equals_loglik_to_1e10(params):
    """The tabulated objective (sums per distinct x and T, per-row work for repeat customers only)
    equals the per-row eq. (6) and its gradient on data with many ties, as compressed rows are:
    times rounded to days, rows in no particular order, weights from 1 to 50."""
    rng = np.random.default_rng(3)
    draws = bgnbd.simulate((0.243, 4.414, 0.793, 2.426), np.round(rng.uniform(13, 78, 20_000) * 7) / 7, rng=rng)
    data = (draws["x"], np.round(draws["t_x"] * 7) / 7, draws["T"])
    weights = rng.integers(1, 51, len(data[0])).astype(float)
    ll, grad = bgnbd.make_objective(*data, weights=weights)(np.array(params))
    ref_ll, ref_grad = _weighted_reference(params, data, weights)
    assert abs(ll - ref_ll) <= 1e-10 * abs(ref_ll)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-10 * np.abs(ref_grad).max())


def test_bgnbd_objective_survives_overflowing_odds_and_edge_data():
    """Log-odds beyond 709 (a huge r with long inactivity) take the logaddexp branch and stay
    exact; data with no repeat customers, or only repeat customers, need no special care."""
    x = np.array([0.0, 3.0, 200.0, 1.0, 0.0])
    t_x = np.array([0.0, 10.0, 1.0, 50.0, 0.0])
    T = np.array([30.0, 60.0, 900.0, 52.0, 7.0])
    w = np.array([2.0, 1.0, 3.0, 1.0, 5.0])
    for params, data, weights in [
        ((30.0, 0.5, 0.8, 2.0), (x, t_x, T), w),
        ((0.5, 3.0, 0.8, 2.0), (x[[0, 4]], t_x[[0, 4]], T[[0, 4]]), w[[0, 4]]),
        ((0.5, 3.0, 0.8, 2.0), (x[1:4], t_x[1:4], T[1:4]), w[1:4]),
    ]:
        ll, grad = bgnbd.make_objective(*data, weights=weights)(np.array(params))
        ref_ll, ref_grad = _weighted_reference(params, data, weights)
        assert np.isfinite(ll) and ll == pytest.approx(ref_ll, rel=1e-12)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-10)
    log_odds = np.log(0.8 / 201) + 230 * np.log(900.5 / 1.5)
    assert log_odds > 709  # the first case did exercise the overflow branch
