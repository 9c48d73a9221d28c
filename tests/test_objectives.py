"""The fused fitting objectives equal the per-row likelihoods they stand in for."""

import numpy as np
import pytest

from clvmodels.likelihoods import bgnbd, gamma_gamma


def _bgnbd_data(rng, n=3000):
    draws = bgnbd.simulate((0.243, 4.414, 0.793, 2.426), rng.uniform(13, 78, n), rng=rng)
    return (draws["x"], draws["t_x"], draws["T"])


def _gg_data(rng, n=3000):
    x = rng.poisson(2.0, n).astype(float) + 1
    return (x, gamma_gamma.simulate((6.25, 3.74, 15.44), x, rng=rng))


@pytest.mark.parametrize(("maths", "make_data", "points"), [
    (bgnbd, _bgnbd_data, [(0.243, 4.414, 0.793, 2.426), (2.0, 0.5, 3.0, 0.7), (0.05, 40.0, 0.2, 9.0)]),
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
